"""Issuing tickets: daily numbering per series, real-name limits, priority classes, hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from firmware_config.hall import QueueGroup
from hallcore.announce import MAX_SEQ, ticket_number
from hallcore.commands import IssueTicket
from hallcore.errors import HallError, NotFound
from hallcore.identity import identity_hash, mask_name
from hallserver.models import HELD_STATES, Priority, Ticket, TicketState, new_public_token
from hallserver.services import estimates, people, site
from hallserver.services import ticket_rows as rows
from hallserver.services.context import HallContext
from hallserver.services.lifecycle import transition
from hallserver.services.ticket_rows import NewTicket


@dataclass(frozen=True)
class IssuedTicket:
    """A new ticket with what the citizen is told about it."""

    ticket: Ticket
    group: QueueGroup
    waiting_ahead: int
    estimated_wait_min: int | None


@dataclass(frozen=True)
class Issued:
    """A new ticket as the issue path wrote it (plain values, no ORM object), with what the citizen is told."""

    ticket: NewTicket
    group: QueueGroup
    waiting_ahead: int
    estimated_wait_min: int | None


def issue_ticket(session: Session, ctx: HallContext, req: IssueTicket) -> IssuedTicket:
    """Issue one ticket (see issue) and load it as an ORM object, for callers that go on changing it."""
    issued = issue(session, ctx, req)
    ticket = session.get(Ticket, issued.ticket.id)
    assert ticket is not None
    return IssuedTicket(ticket, issued.group, issued.waiting_ahead, issued.estimated_wait_min)


def issue(session: Session, ctx: HallContext, req: IssueTicket) -> Issued:
    """Issue one ticket in the caller's transaction; concurrent kiosks never share a number.

    Every check comes before the first write (a refusal leaves nothing behind), then four plain statements:
    the person, the day's counter, the ticket and its event (services/ticket_rows.py)."""
    session.flush()  # the plain statements below must see what the caller changed through the ORM (if anything)
    site.check_issues_tickets(ctx)  # a 24-hour self-service point has no windows
    now = ctx.now()
    group = _resolve_group(ctx, req)
    priority = _check_priority(ctx, req, now)
    _check_open(ctx, priority, now)
    id_hash = _identity(ctx, req, group)
    series = _series(ctx, group, priority)
    pg = rows.is_postgresql(session)
    if id_hash is not None:
        _check_real_name_limits(session, ctx, id_hash, group, now.date())
        person, row = people.person_upsert(ctx, req.id_number, req.name)  # type: ignore[arg-type]
        if pg:  # the person and the counter in one round trip
            seq = int(rows.one(session, rows.pg_counter_with(person), **row, series=series, day=now.date()))
        else:
            rows.run(session, person, **row)
    if id_hash is None or not pg:
        seq = next_number(session, series, now.date())  # locks the series row until commit
    if seq > MAX_SEQ:
        raise HallError(
            "numbers_exhausted",
            f"今日{group.name}号码已发完，请明日再来或预约办理",
            group=group.code,
            series=series,
        )
    values = {
        "number": ticket_number(series, seq),
        "series": series,
        "seq": seq,
        "service_date": now.date(),
        "group_code": group.code,
        "item_code": req.item_code,
        "priority": priority.value,
        "channel": req.channel,
        "identity_hash": id_hash,
        "masked_name": mask_name(req.name) if req.name and id_hash else None,
        "issued_at": now,
        "queue_key": now,
        "appointment_at": req.appointment_at if priority is Priority.appointment else None,
        "note": req.priority_reason,
        "public_token": new_public_token(),  # the slip's QR code: the citizen's lookup, never the id
    }
    detail = f"{req.channel}/{req.method}"
    if pg:  # the ticket, its event and the people ahead in one round trip
        ticket_id, ahead = rows.run(session, rows.PG_TICKET_EVENT_AHEAD[priority.value], **values, detail=detail)[0]
        ticket = NewTicket(id=ticket_id, **values)  # type: ignore[arg-type]
    else:
        ticket_id = int(rows.one(session, rows.TICKET, **values))
        rows.run(session, rows.EVENT, ticket_id=ticket_id, at=now, group_code=group.code, detail=detail)
        ticket = NewTicket(id=ticket_id, **values)  # type: ignore[arg-type]
        ahead = _ahead_of_new(session, ticket)
    ahead = int(ahead)
    return Issued(ticket, group, ahead, estimates.wait_for(session, ctx, group, ahead))


def _ahead_of_new(session: Session, t: NewTicket) -> int:
    """waiting_ahead for a ticket just written, in one plain statement."""
    statement = rows.AHEAD[t.priority]
    return int(rows.one(session, statement, day=t.service_date, group=t.group_code, id=t.id, key=t.queue_key))


def next_number(session: Session, series: str, day: date) -> int:
    """Atomically increment and return the day's counter of a series (never reused)."""
    return int(rows.one(session, rows.COUNTER, series=series, day=day))


def _resolve_group(ctx: HallContext, req: IssueTicket) -> QueueGroup:
    if req.item_code:
        group = ctx.group_for_entry(req.item_code)
        if req.group and req.group != group.code:
            raise HallError("invalid", f"事项 {req.item_code} 属于“{group.name}”队列，与所选队列不符")
        return group
    if req.group:
        return ctx.group(req.group)
    raise HallError("invalid", "请选择要办理的事项或队列")


def _check_priority(ctx: HallContext, req: IssueTicket, now: datetime) -> Priority:
    if req.priority is Priority.green and not req.priority_reason:
        raise HallError("invalid", "绿色通道取号须注明原因（如老年人、残疾人、孕妇、现役军人）")
    if req.priority is not Priority.appointment:
        return req.priority
    if req.appointment_at is None:
        raise HallError("invalid", "预约取号须提供预约时段")
    rules = ctx.profile.tickets
    earliest = req.appointment_at - timedelta(minutes=rules.appointment_early_minutes)
    if now < earliest:
        local = earliest.astimezone(ctx.calendar.zone)
        raise HallError("too_early", f"您预约的时段尚未开始，请于{local:%H:%M}后签到", checkin_from=local.isoformat())
    if now > req.appointment_at + timedelta(minutes=rules.appointment_late_minutes):
        return Priority.normal  # late arrivals queue as walk-ins
    return Priority.appointment


def _check_open(ctx: HallContext, priority: Priority, now: datetime) -> None:
    cal = ctx.calendar
    is_open = cal.is_open_for_appointments(now) if priority is Priority.appointment else cal.is_open(now)
    if is_open:
        return
    reopen = cal.next_opening(now)
    when = f"，将于{reopen:%m月%d日 %H:%M}恢复取号" if reopen else ""
    raise HallError("closed", f"现在不是办公时间{when}", reopens_at=reopen.isoformat() if reopen else None)


def _identity(ctx: HallContext, req: IssueTicket, group: QueueGroup) -> str | None:
    if req.id_number:
        return identity_hash(ctx.identity_key, req.id_number)
    if not group.anonymous_allowed:
        raise HallError("identity_required", "办理业务须实名取号，请刷身份证或进行人脸识别")
    return None


def _series(ctx: HallContext, group: QueueGroup, priority: Priority) -> str:
    rules = ctx.profile.tickets
    if priority is Priority.appointment:
        return rules.appointment_prefix
    if priority is Priority.green:
        return rules.green_prefix
    return group.prefix


def _check_real_name_limits(session: Session, ctx: HallContext, id_hash: str, group: QueueGroup, day: date) -> None:
    """One waiting ticket per group and the daily cap, from one read of the person's tickets of the day
    (a handful of rows through ix_ticket_person_day, never a scan of the day)."""
    rules = ctx.profile.tickets
    if rows.is_postgresql(session):
        # Two desks issuing for one person in two groups hold different counter rows: this lock, until the
        # transaction ends, makes the second read the first's ticket (SQLite has one writer anyway).
        rows.run(session, rows.PERSON_ADVISORY_LOCK, lock_key=id_hash)
    mine = rows.run(session, rows.PERSON_DAY, id_hash=id_hash, day=day)
    if rules.one_waiting_per_group:
        held = next((n for n, g, state in mine if g == group.code and state in HELD_STATES), None)
        if held is not None:
            raise HallError("already_waiting", f"您已持有{group.name}的{held}号，请等候叫号", ticket=held)
    if len(mine) >= rules.daily_cap_per_person:
        raise HallError(
            "limit_reached",
            f"同一身份每日最多取号{rules.daily_cap_per_person}次，今日已达上限",
            cap=rules.daily_cap_per_person,
        )


def waiting_ahead(session: Session, ticket: Ticket) -> int:
    """Waiting tickets of the same group and day that will be called before this one."""
    # Same order as allocation: queue time, then id for tickets issued in the same instant.
    earlier = or_(
        col(Ticket.queue_key) < ticket.queue_key,
        and_(col(Ticket.queue_key) == ticket.queue_key, col(Ticket.id) < ticket.id),
    )
    line = (
        select(func.count())
        .select_from(Ticket)
        .where(
            Ticket.service_date == ticket.service_date,
            Ticket.group_code == ticket.group_code,
            Ticket.state == TicketState.waiting,
            Ticket.id != ticket.id,
        )
    )
    if ticket.priority == Priority.normal:
        # Everyone waiting but the normal tickets queued after it: the whole line is counted inside the index
        # (ix_ticket_line), and only the few rows at or after its queue key are read — a new ticket's line is
        # counted without visiting its thousands of rows.
        later = and_(col(Ticket.queue_key) >= ticket.queue_key, col(Ticket.priority) == Priority.normal, ~earlier)
        return int(session.exec(line).one()) - int(session.exec(line.where(later)).one())
    green = col(Ticket.priority) == Priority.green
    if ticket.priority == Priority.green:
        ahead = and_(green, earlier)
    else:
        ahead = or_(green, and_(col(Ticket.priority) == Priority.appointment, earlier))
    return int(session.exec(line.where(ahead)).one())


def get_ticket(session: Session, ticket_id: int) -> Ticket:
    """A ticket by id, or not_found."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"没有找到编号为 {ticket_id} 的号码", ticket_id=ticket_id)
    return ticket


def cancel_ticket(session: Session, ctx: HallContext, ticket_id: int, reason: str | None = None) -> Ticket:
    """The citizen gives up a ticket."""
    ticket = get_ticket(session, ticket_id)
    transition(session, ticket, "cancel", ctx.now(), window_id=ticket.window_id, detail=reason)
    ticket.window_id = None
    return ticket


def rejoin_ticket(session: Session, ctx: HallContext, ticket_id: int) -> Ticket:
    """A no-show comes back within the rejoin window: queued a few places behind the head (过号顺延)."""
    ticket = get_ticket(session, ticket_id)
    now = ctx.now()
    rules = ctx.profile.tickets
    if ticket.state == TicketState.no_show:
        assert ticket.no_show_at is not None
        deadline = ticket.no_show_at + timedelta(minutes=rules.no_show_rejoin_minutes)
        if now > deadline or ticket.service_date != now.date():
            raise HallError(
                "rejoin_expired",
                f"{ticket.number}号过号已超过{rules.no_show_rejoin_minutes}分钟，请重新取号",
                ticket=ticket.number,
            )
    transition(session, ticket, "rejoin", now)
    ticket.queue_key = _rejoin_key(session, ticket, now, rules.rejoin_after_positions)
    ticket.window_id = None
    ticket.no_show_at = None
    return ticket


def _rejoin_key(session: Session, ticket: Ticket, now: datetime, positions: int) -> datetime:
    """Just behind the `positions`-th waiting ticket of the group, or the back if fewer wait."""
    keys = session.exec(
        select(Ticket.queue_key)
        .where(
            Ticket.service_date == ticket.service_date,
            Ticket.group_code == ticket.group_code,
            Ticket.state == TicketState.waiting,
            Ticket.id != ticket.id,
        )
        .order_by(col(Ticket.queue_key))
        .limit(positions)
    ).all()
    if positions == 0:
        return ticket.issued_at
    if len(keys) < positions:
        return now
    return min(keys[-1] + timedelta(microseconds=1), now)


def expire_stale(session: Session, ctx: HallContext) -> int:
    """Cancel tickets left unfinished on earlier days (numbers reset at midnight); returns how many."""
    now = ctx.now()
    stale = session.exec(
        select(Ticket).where(
            Ticket.service_date < now.date(),
            col(Ticket.state).in_(
                (TicketState.waiting, TicketState.called, TicketState.no_show, TicketState.suspended)
            ),
        )
    ).all()
    for ticket in stale:
        transition(session, ticket, "cancel", now, detail="跨日自动作废")
        ticket.window_id = None
    return len(stale)
