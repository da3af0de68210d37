"""Check-in on the day: the holder's identity, the check-in window and the late rule, then the ticket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from hallcore.commands import Identity, IssueTicket
from hallcore.errors import Conflict, HallError, NotFound
from hallcore.identity import identity_hash
from hallserver.models import Booking, BookingState, Priority, Ticket
from hallserver.services.appointments.rules import check_holder, cn_date, get_booking
from hallserver.services.context import HallContext
from hallserver.services.tickets import IssuedTicket, issue_ticket


@dataclass(frozen=True)
class CheckIn:
    """A check-in: the ticket issued, the booking, and whether it queues as a walk-in (late)."""

    issued: IssuedTicket
    booking: Booking
    walk_in: bool
    message: str


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
    check_holder(ctx, booking, id_number)
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
        IssueTicket(
            item_code=booking.item_code,
            identity=Identity(id_number=id_number, name=name, method=method) if id_number else None,
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
