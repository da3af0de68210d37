"""The staff and manager web console (served under /console/, every asset local)."""
