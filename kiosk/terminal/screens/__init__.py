"""The kiosk's screens (Kivy): each module builds one screen from the session state; no decisions here."""
