"""Hall bus tests against a real Mosquitto."""
