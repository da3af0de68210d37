"""The hall bus: topics, payload models and the MQTT client (built out by the bus issue)."""
