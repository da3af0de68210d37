"""Resident ID card reading: the SAM_V serial protocol, card text parsing, a card watcher and a pty simulator."""
