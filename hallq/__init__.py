"""The `hallq` command: one entry point for the server, the broker, provisioning and every floor device."""
