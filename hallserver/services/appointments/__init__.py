"""Appointments (预约): slots from the hall calendar, booking within capacity, check-in, no-shows.

Pure services over a session and the hall context (its clock included); no web or bus imports. One module
per job — slots, booking (and cancelling), check-in, the no-show sweep — and `rules` for what they share;
callers use this package's names.
"""

from __future__ import annotations

from hallserver.services.appointments.booking import book, cancel
from hallserver.services.appointments.checkin import CheckIn, check_in
from hallserver.services.appointments.no_shows import SweepResult, suspension_of, sweep_no_shows
from hallserver.services.appointments.rules import (
    CODE_ALPHABET,
    CODE_LENGTH,
    Forbidden,
    check_holder,
    cn_date,
    get_booking,
    normalize_code,
)
from hallserver.services.appointments.slots import SlotView, bookable_item, booking_window, slot_times, slots_for

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "CheckIn",
    "Forbidden",
    "SlotView",
    "SweepResult",
    "book",
    "bookable_item",
    "booking_window",
    "cancel",
    "check_holder",
    "check_in",
    "cn_date",
    "get_booking",
    "normalize_code",
    "slot_times",
    "slots_for",
    "suspension_of",
    "sweep_no_shows",
]
