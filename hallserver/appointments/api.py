"""Appointment routes: free slots, booking, cancelling, check-in and the no-show sweep.

ID numbers travel only in request bodies (never in URLs, which end up in access logs) and are
never returned; names are shown masked.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from hallserver.api.deps import Auth, HallDep
from hallserver.api.schemas import Body, Identity, TicketOut
from hallserver.appointments import service
from hallserver.appointments.models import BOOKING_STATE_LABELS, Booking, BookingState
from hallserver.gateway.effects import Effects
from hallserver.services.context import HallContext

router = APIRouter(prefix="/appointments", tags=["预约 appointments"])


class SlotOut(BaseModel):
    """One slot with its free seats."""

    start: dt.datetime
    end: dt.datetime
    capacity: int
    booked: int
    free: int


class SlotsOut(BaseModel):
    """An item's slots on one day, and how far ahead it can be booked."""

    item_code: str
    item_name: str
    date: dt.date
    bookable_until: dt.date
    slots: list[SlotOut]


class BookerIn(Body):
    """Who books: the ID number is only hashed, the name only kept masked."""

    id_number: str = Field(min_length=15, max_length=18, examples=["440305199001011234"])
    name: str | None = Field(default=None, max_length=30)


class BookIn(Body):
    """Book one slot of an item."""

    item_code: str = Field(max_length=64)
    slot_start: dt.datetime = Field(examples=["2026-11-24T10:00:00+08:00"])
    identity: BookerIn


class HolderIn(Body):
    """The booking holder proves who they are."""

    id_number: str = Field(min_length=15, max_length=18)


class CheckinIn(Body):
    """Check in with the holder's identity; the booking code picks the booking when given."""

    code: str | None = Field(default=None, max_length=16)
    identity: Identity | None = None


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


class SweepOut(BaseModel):
    """What the no-show sweep did."""

    no_shows: int
    suspended: int


def _minutes(n: int) -> dt.timedelta:
    return dt.timedelta(minutes=n)


@router.get("/slots", summary="查询某事项某日的可预约时段")
def slots(
    hall: HallDep,
    item_code: str = Query(max_length=64),
    day: dt.date = Query(alias="date", examples=["2026-11-24"]),
) -> SlotsOut:
    """Slots still to come with free seats; empty on closed days and outside the booking window."""
    ctx = hall.ctx
    item = service.bookable_item(ctx, item_code)
    with hall.tx() as s:
        found = service.slots_for(s, ctx, item_code, day)
    return SlotsOut(
        item_code=item_code,
        item_name=item.name,
        date=day,
        bookable_until=service.booking_window(ctx, item)[1],
        slots=[SlotOut(start=v.start, end=v.end, capacity=v.capacity, booked=v.booked, free=v.free) for v in found],
    )


@router.post("/bookings", status_code=201, summary="预约")
def book(body: BookIn, hall: HallDep) -> BookingOut:
    """Book a slot; the answer carries the booking code to check in with."""
    ident = body.identity
    with hall.tx() as s:
        booking = service.book(s, hall.ctx, body.item_code, body.slot_start, ident.id_number, ident.name)
        return BookingOut.of(booking, hall.ctx)


@router.post("/bookings/{code}/cancel", summary="取消预约（本人）")
def cancel(code: str, body: HolderIn, hall: HallDep) -> BookingOut:
    """The holder cancels before the slot starts."""
    with hall.tx() as s:
        return BookingOut.of(service.cancel(s, hall.ctx, code, body.id_number), hall.ctx)


@router.post("/checkin", summary="预约签到取号")
def checkin(body: CheckinIn, hall: HallDep) -> CheckinOut:
    """Check in within the window: an appointment-priority ticket, or per the late rule."""
    ident = body.identity
    with hall.tx() as s:
        done = service.check_in(
            s,
            hall.ctx,
            code=body.code,
            id_number=ident.id_number if ident else None,
            name=ident.name if ident else None,
            method=ident.method if ident else "id_card",
        )
        out = CheckinOut.of(done, hall.ctx)
    hall.notify(Effects(queue=True))
    return out


@router.post("/sweep", summary="标记爽约并暂停多次爽约者的预约资格（管理）")
def sweep(hall: HallDep, principal: Auth) -> SweepOut:
    """Housekeeping: run after each slot's check-in window closes, or at day end."""
    principal.require("manager", "admin")
    with hall.tx() as s:
        result = service.sweep_no_shows(s, hall.ctx)
    return SweepOut(no_shows=result.no_shows, suspended=result.suspended)
