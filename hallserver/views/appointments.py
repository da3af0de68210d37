"""Views of appointments shared by the REST routes and the bus gateway: a booking as its holder sees it, and
the answer to a check-in (the ticket it issued, with the booking)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from hallserver.models import BOOKING_STATE_LABELS, Booking, BookingState
from hallserver.services import appointments as service
from hallserver.services.context import HallContext
from hallserver.views.tickets import TicketOut


class BookingOut(BaseModel):
    """A booking as shown to its holder: code, item, slot, state; no identity."""

    code: str
    item_code: str
    item_name: str
    slot_start: dt.datetime
    slot_end: dt.datetime
    state: str
    state_label: str
    masked_name: str | None
    checkin_from: dt.datetime
    checkin_until: dt.datetime

    @classmethod
    def of(cls, b: Booking, ctx: HallContext) -> BookingOut:
        """Build from a booking row, times in the hall's zone."""
        zone = ctx.calendar.zone
        rules = ctx.profile.tickets
        start = b.slot_start.astimezone(zone)
        return cls(
            code=b.code,
            item_code=b.item_code,
            item_name=ctx.entry_name(b.item_code),
            slot_start=start,
            slot_end=b.slot_end.astimezone(zone),
            state=b.state,
            state_label=BOOKING_STATE_LABELS[BookingState(b.state)],
            masked_name=b.masked_name,
            checkin_from=start - _minutes(rules.appointment_early_minutes),
            checkin_until=start + _minutes(rules.appointment_late_minutes),
        )


class CheckinOut(BaseModel):
    """The ticket a check-in issued, and whether it queues as a walk-in (late arrival)."""

    ticket: TicketOut
    group_name: str
    waiting_ahead: int
    estimated_wait_min: int | None
    walk_in: bool
    message: str
    booking: BookingOut

    @classmethod
    def of(cls, done: service.CheckIn, ctx: HallContext) -> CheckinOut:
        """Build from a check-in result (also usable as the bus reply: model_dump(mode="json"))."""
        issued = done.issued
        return cls(
            ticket=TicketOut.of(issued.ticket, ctx),
            group_name=issued.group.name,
            waiting_ahead=issued.waiting_ahead,
            estimated_wait_min=issued.estimated_wait_min,
            walk_in=done.walk_in,
            message=done.message,
            booking=BookingOut.of(done.booking, ctx),
        )


def _minutes(n: int) -> dt.timedelta:
    return dt.timedelta(minutes=n)
