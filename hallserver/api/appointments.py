"""Appointment routes: free slots, booking, cancelling, check-in and the no-show sweep.

ID numbers travel only in request bodies (never in URLs, which end up in access logs) and are
never returned; names are shown masked.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from hallcore.commands import Identity
from hallserver.api.deps import Auth, HallDep
from hallserver.api.schemas import Body
from hallserver.events import Effects
from hallserver.services import appointments
from hallserver.views.appointments import BookingOut, CheckinOut

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


class SweepOut(BaseModel):
    """What the no-show sweep did."""

    no_shows: int
    suspended: int


@router.get("/slots", summary="查询某事项某日的可预约时段")
def slots(
    hall: HallDep,
    item_code: str = Query(max_length=64),
    day: dt.date = Query(alias="date", examples=["2026-11-24"]),
) -> SlotsOut:
    """Slots still to come with free seats; empty on closed days and outside the booking window."""
    ctx = hall.ctx
    item = appointments.bookable_item(ctx, item_code)
    with hall.tx() as s:
        found = appointments.slots_for(s, ctx, item_code, day)
    return SlotsOut(
        item_code=item_code,
        item_name=item.name,
        date=day,
        bookable_until=appointments.booking_window(ctx, item)[1],
        slots=[SlotOut(start=v.start, end=v.end, capacity=v.capacity, booked=v.booked, free=v.free) for v in found],
    )


@router.post("/bookings", status_code=201, summary="预约")
def book(body: BookIn, hall: HallDep) -> BookingOut:
    """Book a slot; the answer carries the booking code to check in with."""
    ident = body.identity
    with hall.tx() as s:
        booking = appointments.book(s, hall.ctx, body.item_code, body.slot_start, ident.id_number, ident.name)
        return BookingOut.of(booking, hall.ctx)


@router.post("/bookings/{code}/cancel", summary="取消预约（本人）")
def cancel(code: str, body: HolderIn, hall: HallDep) -> BookingOut:
    """The holder cancels before the slot starts."""
    with hall.tx() as s:
        return BookingOut.of(appointments.cancel(s, hall.ctx, code, body.id_number), hall.ctx)


@router.post("/checkin", summary="预约签到取号")
def checkin(body: CheckinIn, hall: HallDep) -> CheckinOut:
    """Check in within the window: an appointment-priority ticket, or per the late rule."""
    ident = body.identity
    with hall.tx() as s:
        done = appointments.check_in(
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
        result = appointments.sweep_no_shows(s, hall.ctx)
    return SweepOut(no_shows=result.no_shows, suspended=result.suspended)
