"""Appointments (预约): bookable slots per item and day, booking codes, check-in, no-shows."""
