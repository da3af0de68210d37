"""Hall profiles, device profiles and the national holiday calendar, with their schemas."""
