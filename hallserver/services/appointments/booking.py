"""Booking a seat in a slot within its capacity, and cancelling it."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from hallcore.catalog.schema import Item
from hallcore.errors import Conflict, HallError
from hallcore.identity import identity_hash, mask_name
from hallserver.models import BOOKING_STATE_LABELS, AppointmentSlot, Booking, BookingState, BookingSuspension
from hallserver.services import people
from hallserver.services.appointments.rules import (
    CODE_ALPHABET,
    CODE_LENGTH,
    Forbidden,
    check_holder,
    cn_date,
    get_booking,
)
from hallserver.services.appointments.slots import bookable_item, booking_window, slot_times
from hallserver.services.context import HallContext


def book(
    session: Session,
    ctx: HallContext,
    item_code: str,
    slot_start: datetime,
    id_number: str,
    name: str | None = None,
) -> Booking:
    """Book a seat in a slot for a person; capacity holds under concurrent requests."""
    item = bookable_item(ctx, item_code)
    if slot_start.tzinfo is None:
        raise HallError("invalid", "预约时段须带时区，例如 2026-11-24T10:00:00+08:00")
    now = ctx.now()
    start = slot_start.astimezone(ctx.calendar.zone)
    end = _check_slot(ctx, item, start, now)
    id_hash = identity_hash(ctx.identity_key, id_number)
    _check_not_suspended(session, ctx, id_hash, now)
    _check_not_holding(session, ctx, id_hash, item, start.date())
    slot_id = _take_seat(session, ctx, item_code, start, end)
    people.remember(session, ctx, id_number, name)  # the identity, encrypted, for the visit and progress query
    booking = Booking(
        code=_new_code(session),
        slot_id=slot_id,
        item_code=item_code,
        service_date=start.date(),
        slot_start=start,
        slot_end=end,
        identity_hash=id_hash,
        masked_name=mask_name(name) if name and name.strip() else None,
        state=BookingState.booked,
        created_at=now,
    )
    session.add(booking)
    try:
        session.flush()
    except IntegrityError:  # a concurrent booking of the same person won the unique index
        raise _already_booked(ctx, item, start.date()) from None
    return booking


def _check_slot(ctx: HallContext, item: Item, start: datetime, now: datetime) -> datetime:
    """The end of the slot starting at `start`, or why it cannot be booked."""
    day = start.date()
    when = f"{cn_date(day)} {start:%H:%M}"
    if start <= now:
        raise HallError("slot_past", f"{when}的时段已开始或已过去，请选择其他时段", slot_start=start.isoformat())
    first, last = booking_window(ctx, item)
    if not first <= day <= last:
        raise HallError(
            "outside_window",
            f"“{item.name}”只能预约{cn_date(first)}至{cn_date(last)}的时段",
            bookable_until=last.isoformat(),
        )
    times = slot_times(ctx, day)
    if not times:
        kind = ctx.calendar.holidays.kind(day).value
        raise HallError("no_such_slot", f"{cn_date(day)}是{kind}，大厅不办公，不能预约", date=day.isoformat())
    end = next((e for s, e in times if s == start), None)
    if end is None:
        raise HallError("no_such_slot", f"{when}不是可预约的时段，请从可预约时段中选择", slot_start=start.isoformat())
    return end


def _check_not_suspended(session: Session, ctx: HallContext, id_hash: str, now: datetime) -> None:
    suspension = session.exec(
        select(BookingSuspension)
        .where(BookingSuspension.identity_hash == id_hash, col(BookingSuspension.until) > now)
        .order_by(col(BookingSuspension.until).desc())
    ).first()
    if suspension is None:
        return
    until = suspension.until.astimezone(ctx.calendar.zone)
    last_day = (until - timedelta(microseconds=1)).date()
    raise Forbidden(
        "booking_suspended",
        f"您因多次预约后未到场，预约资格暂停至{cn_date(last_day)}，期间可到大厅现场取号办理",
        until=until.isoformat(),
    )


def _check_not_holding(session: Session, ctx: HallContext, id_hash: str, item: Item, day: date) -> None:
    held = session.exec(
        select(Booking.id).where(
            Booking.identity_hash == id_hash,
            Booking.item_code == item.code,
            Booking.service_date == day,
            col(Booking.state).in_((BookingState.booked, BookingState.checked_in)),
        )
    ).first()
    if held is not None:
        raise _already_booked(ctx, item, day)


def _already_booked(ctx: HallContext, item: Item, day: date) -> HallError:
    return Conflict(
        "already_booked",
        f"您已预约{cn_date(day)}的“{item.name}”，同一事项每天只能预约一次",
        item_code=item.code,
        date=day.isoformat(),
    )


def _take_seat(session: Session, ctx: HallContext, item_code: str, start: datetime, end: datetime) -> int:
    """Create the slot row on first use, then take a seat with one conditional UPDATE (never over)."""
    table = AppointmentSlot.__table__  # type: ignore[attr-defined]
    c = table.c
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(table)
        .values(
            item_code=item_code,
            service_date=start.date(),
            start=start,
            end=end,
            capacity=ctx.profile.appointments.capacity_per_slot,
            booked=0,
        )
        .on_conflict_do_nothing(index_elements=["item_code", "start"])
    )
    slot_id = session.execute(
        update(table)
        .where(c.item_code == item_code, c.start == start, c.booked < c.capacity)
        .values(booked=c.booked + 1)
        .returning(c.id)
    ).scalar_one_or_none()
    if slot_id is None:
        raise Conflict(
            "slot_full",
            f"{cn_date(start.date())} {start:%H:%M}的时段已约满，请选择其他时段",
            slot_start=start.isoformat(),
        )
    return int(slot_id)


def _new_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.exec(select(Booking.id).where(Booking.code == code)).first() is None:
            return code


def cancel(session: Session, ctx: HallContext, code: str, id_number: str) -> Booking:
    """The holder cancels before the slot starts; the seat becomes free again."""
    booking = get_booking(session, code, lock=True)
    check_holder(ctx, booking, id_number)
    if booking.state != BookingState.booked:
        raise Conflict(
            "booking_not_active",
            f"该预约{BOOKING_STATE_LABELS[BookingState(booking.state)]}，不能取消",
            state=booking.state,
        )
    now = ctx.now()
    if now >= booking.slot_start:
        raise HallError("cancel_too_late", "预约时段已开始，不能再取消；请按时到大厅签到", code=booking.code)
    booking.state = BookingState.cancelled
    booking.cancelled_at = now
    session.add(booking)
    table = AppointmentSlot.__table__  # type: ignore[attr-defined]
    session.execute(
        update(table).where(table.c.id == booking.slot_id, table.c.booked > 0).values(booked=table.c.booked - 1)
    )
    session.flush()
    return booking
