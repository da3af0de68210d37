"""Appointments (预约): slots from the hall calendar, booking within capacity, check-in, no-shows.

Pure services over a session and the hall context (its clock included); no web or bus imports.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from hallcore.catalog.schema import Item
from hallcore.errors import Conflict, HallError, NotFound
from hallcore.identity import identity_hash, mask_name
from hallserver.appointments.models import (
    BOOKING_STATE_LABELS,
    AppointmentSlot,
    Booking,
    BookingState,
    BookingSuspension,
)
from hallserver.models import Priority, Ticket
from hallserver.services import people
from hallserver.services.context import HallContext
from hallserver.services.tickets import IssuedTicket, IssueRequest, issue_ticket

# Booking codes are read aloud and typed on kiosks: no 0/O, 1/I/L look-alikes.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
_CODE_RE = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")


class Forbidden(HallError):
    """The request is refused to this person (not the holder, or suspended)."""

    http_status = 403


@dataclass(frozen=True)
class SlotView:
    """A bookable slot of one item with its free seats; times in the hall's zone."""

    start: datetime
    end: datetime
    capacity: int
    booked: int

    @property
    def free(self) -> int:
        """Seats still free."""
        return max(self.capacity - self.booked, 0)


@dataclass(frozen=True)
class CheckIn:
    """A check-in: the ticket issued, the booking, and whether it queues as a walk-in (late)."""

    issued: IssuedTicket
    booking: Booking
    walk_in: bool
    message: str


@dataclass(frozen=True)
class SweepResult:
    """What one no-show sweep did."""

    no_shows: int
    suspended: int


def cn_date(day: date) -> str:
    """2026年12月26日."""
    return f"{day.year}年{day.month}月{day.day}日"


def normalize_code(raw: str) -> str:
    """A booking code as typed (spaces, dashes, lower case allowed) in its stored form."""
    return re.sub(r"[\s\-]", "", raw).upper()


# --- slots ---


def bookable_item(ctx: HallContext, item_code: str) -> Item:
    """The catalog item if it can be booked in this hall; unknown_item or not_bookable otherwise."""
    item = ctx.catalog.items.get(item_code)
    if item is None:
        if item_code in ctx.catalog.bundles:
            raise HallError(
                "not_bookable",
                f"“{ctx.entry_name(item_code)}”是一件事套餐，请到大厅取号办理",
                item_code=item_code,
            )
        raise HallError("unknown_item", f"事项编码 {item_code} 不在本大厅的事项目录中", item_code=item_code)
    if not item.appointment.supported:
        raise HallError("not_bookable", f"“{item.name}”不支持预约，请到大厅取号办理", item_code=item_code)
    ctx.group_for_entry(item_code)  # some queue must serve it
    return item


def booking_window(ctx: HallContext, item: Item) -> tuple[date, date]:
    """First and last local dates the item can be booked for, from today."""
    today = ctx.today()
    ahead = min(ctx.profile.appointments.days_ahead, item.appointment.days_ahead)
    return today, today + timedelta(days=ahead)


def slot_times(ctx: HallContext, day: date) -> list[tuple[datetime, datetime]]:
    """The day's slots: each opening period, widened by 早晚弹性办, cut into slot_minutes pieces."""
    length = timedelta(minutes=ctx.profile.appointments.slot_minutes)
    result = []
    for start, end in ctx.calendar.periods(day, ctx.profile.hours.appointment_flex_minutes):
        t = start
        while t + length <= end:
            result.append((t, t + length))
            t += length
    return result


def slots_for(session: Session, ctx: HallContext, item_code: str, day: date) -> list[SlotView]:
    """Slots of an item still to come on a day, with free seats; empty outside the booking window."""
    item = bookable_item(ctx, item_code)
    first, last = booking_window(ctx, item)
    if not first <= day <= last:
        return []
    rows = session.exec(
        select(AppointmentSlot).where(AppointmentSlot.item_code == item_code, AppointmentSlot.service_date == day)
    ).all()
    by_start = {row.start: row for row in rows}  # aware datetimes compare and hash by instant
    default = ctx.profile.appointments.capacity_per_slot
    now = ctx.now()
    views = []
    for start, end in slot_times(ctx, day):
        if start <= now:
            continue
        row = by_start.get(start)
        views.append(SlotView(start, end, row.capacity if row else default, row.booked if row else 0))
    return views


# --- booking and cancelling ---


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


def get_booking(session: Session, code: str, lock: bool = False) -> Booking:
    """A booking by its code (normalised), optionally locked for update; not_found otherwise."""
    value = normalize_code(code)
    booking = None
    if _CODE_RE.match(value):
        stmt = select(Booking).where(Booking.code == value).execution_options(populate_existing=True)
        booking = session.exec(stmt.with_for_update() if lock else stmt).first()
    if booking is None:
        raise NotFound(f"没有找到预约码为 {value} 的预约，请核对后重新输入", code=value)
    return booking


def _check_holder(ctx: HallContext, booking: Booking, id_number: str) -> None:
    if identity_hash(ctx.identity_key, id_number) != booking.identity_hash:
        raise Forbidden("not_holder", "预约码与证件号码不匹配，只有预约人本人可以办理", code=booking.code)


def cancel(session: Session, ctx: HallContext, code: str, id_number: str) -> Booking:
    """The holder cancels before the slot starts; the seat becomes free again."""
    booking = get_booking(session, code, lock=True)
    _check_holder(ctx, booking, id_number)
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


# --- check-in ---


def check_in(
    session: Session,
    ctx: HallContext,
    code: str | None = None,
    id_number: str | None = None,
    *,
    name: str | None = None,
    method: str = "id_card",
) -> CheckIn:
    """Check in by booking code or by identity (today's booking); issues the ticket.

    The holder's identity is always required: a booking code alone could be sold on (号贩子), and the
    ticket is real-name. The code only picks which booking when a person holds several.
    """
    if not id_number:
        raise HallError("identity_required", "预约签到须核验本人身份，请刷身份证或进行人脸识别")
    id_hash = identity_hash(ctx.identity_key, id_number)
    now = ctx.now()
    booking = get_booking(session, code, lock=True) if code else _todays_booking(session, ctx, id_hash, now)
    _check_holder(ctx, booking, id_number)
    _check_can_check_in(session, ctx, booking, now)
    late = now > booking.slot_start + timedelta(minutes=ctx.profile.tickets.appointment_late_minutes)
    if late and ctx.profile.appointments.late_rule == "refuse":
        deadline = booking.slot_start + timedelta(minutes=ctx.profile.tickets.appointment_late_minutes)
        raise HallError(
            "checkin_late",
            f"您预约的{_local(ctx, booking.slot_start):%H:%M}时段最迟须在"
            f"{_local(ctx, deadline):%H:%M}前签到，现已超时，请重新预约",
            code=booking.code,
            deadline=_local(ctx, deadline).isoformat(),
        )
    issued = issue_ticket(
        session,
        ctx,
        IssueRequest(
            item_code=booking.item_code,
            id_number=id_number,
            name=name,
            method=method,
            priority=Priority.normal if late else Priority.appointment,
            appointment_at=None if late else booking.slot_start,
            channel="appointment",
        ),
    )
    ticket = issued.ticket
    if ticket.masked_name is None and booking.masked_name:
        ticket.masked_name = booking.masked_name
    # A late arrival under the walk_in rule still came: the booking counts as kept, not as a no-show.
    booking.state = BookingState.checked_in
    booking.checked_in_at = now
    booking.no_show_at = None
    booking.ticket_id = ticket.id
    session.add_all([ticket, booking])
    session.flush()
    if late:
        message = f"您已超过预约签到时间，按现场取号排队：{ticket.number}号，请留意叫号"
    else:
        message = f"签到成功：{ticket.number}号（预约优先），请留意叫号"
    return CheckIn(issued, booking, late, message)


def _local(ctx: HallContext, t: datetime) -> datetime:
    return t.astimezone(ctx.calendar.zone)


def _todays_booking(session: Session, ctx: HallContext, id_hash: str, now: datetime) -> Booking:
    """The person's booking today to check in: the first still on time, else the latest."""
    rows = session.exec(
        select(Booking)
        .where(Booking.identity_hash == id_hash, Booking.service_date == now.date())
        .order_by(col(Booking.slot_start))
        .with_for_update()
    ).all()
    open_ = [b for b in rows if b.ticket_id is None and b.state != BookingState.cancelled]
    if not open_:
        done = [b for b in rows if b.ticket_id is not None]
        if done:
            return done[-1]  # reported as already checked in
        raise NotFound("您今天没有有效的预约，请到大厅现场取号或预约其他时段")
    late = timedelta(minutes=ctx.profile.tickets.appointment_late_minutes)
    return next((b for b in open_ if now <= b.slot_start + late), open_[-1])


def _check_can_check_in(session: Session, ctx: HallContext, booking: Booking, now: datetime) -> None:
    if booking.ticket_id is not None:
        ticket = session.get(Ticket, booking.ticket_id)
        number = ticket.number if ticket else ""
        at = _local(ctx, booking.checked_in_at or now)
        raise Conflict(
            "already_checked_in",
            f"该预约已于{at:%H:%M}签到，您的号码是{number}，请留意叫号",
            ticket=number,
            code=booking.code,
        )
    if booking.state == BookingState.cancelled:
        raise Conflict("booking_not_active", "该预约已取消，不能签到", state=booking.state)
    start = _local(ctx, booking.slot_start)
    earliest = start - timedelta(minutes=ctx.profile.tickets.appointment_early_minutes)
    if now < earliest:
        day = "" if start.date() == now.date() else f"{cn_date(start.date())} "
        raise HallError(
            "too_early",
            f"您预约的是{day}{start:%H:%M}的时段，请于{day}{earliest:%H:%M}后签到",
            checkin_from=earliest.isoformat(),
        )
    if start.date() != now.date():
        raise HallError(
            "booking_expired",
            f"您预约的{cn_date(start.date())} {start:%H:%M}时段已过，请重新预约或到大厅现场取号",
            code=booking.code,
        )


# --- no-shows ---


def sweep_no_shows(session: Session, ctx: HallContext) -> SweepResult:
    """Bookings not checked in by slot start + late minutes become no-shows; repeaters are suspended.

    Idempotent: a second run at the same instant changes nothing.
    """
    now = ctx.now()
    cutoff = now - timedelta(minutes=ctx.profile.tickets.appointment_late_minutes)
    due = session.exec(
        select(Booking).where(Booking.state == BookingState.booked, col(Booking.slot_start) < cutoff).with_for_update()
    ).all()
    for booking in due:
        booking.state = BookingState.no_show
        booking.no_show_at = now
        session.add(booking)
    session.flush()
    people = sorted({b.identity_hash for b in due})
    suspended = sum(1 for id_hash in people if _maybe_suspend(session, ctx, id_hash, now))
    return SweepResult(len(due), suspended)


def _maybe_suspend(session: Session, ctx: HallContext, id_hash: str, now: datetime) -> bool:
    """Suspend booking when the no-shows since the last suspension, within the window, reach the limit."""
    rules = ctx.profile.appointments
    last = session.exec(
        select(BookingSuspension)
        .where(BookingSuspension.identity_hash == id_hash)
        .order_by(col(BookingSuspension.until).desc())
    ).first()
    if last is not None and last.until > now:
        return False
    since = now - timedelta(days=rules.no_show_window_days)
    if last is not None and last.since > since:
        since = last.since  # no-shows already punished do not count twice
    count = session.exec(
        select(func.count())
        .select_from(Booking)
        .where(
            Booking.identity_hash == id_hash,
            Booking.state == BookingState.no_show,
            col(Booking.slot_start) >= since,
        )
    ).one()
    if count < rules.no_show_limit:
        return False
    # Whole days: booking reopens at local midnight after the last suspended day.
    reopen = now.date() + timedelta(days=rules.suspension_days + 1)
    session.add(
        BookingSuspension(
            identity_hash=id_hash,
            since=now,
            until=datetime.combine(reopen, time(0), ctx.calendar.zone),
            reason=f"{rules.no_show_window_days}天内预约未到{count}次",
        )
    )
    session.flush()
    return True


def suspension_of(session: Session, ctx: HallContext, id_number: str) -> BookingSuspension | None:
    """The person's suspension in force now, if any."""
    return session.exec(
        select(BookingSuspension)
        .where(
            BookingSuspension.identity_hash == identity_hash(ctx.identity_key, id_number),
            col(BookingSuspension.until) > ctx.now(),
        )
        .order_by(col(BookingSuspension.until).desc())
    ).first()
