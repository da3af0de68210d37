"""Pure services over a database session and a clock; no web or MQTT imports."""
