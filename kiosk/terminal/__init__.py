"""The self-service kiosk (自助终端): flows in plain services (no Kivy), thin Kivy screens on top."""
