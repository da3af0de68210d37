"""Windows: seeding from the hall profile, live reallocation and status, and every window action."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import Session, col, delete, select

from firmware_config.hall import HallProfile
from hallcore.errors import Conflict, HallError, NotFound
from hallserver.models import (
    ACTIVE_STATES,
    Outcome,
    Ticket,
    TicketState,
    WindowGroup,
    WindowRow,
    WindowStatus,
)
from hallserver.services import allocation, candidates, estimates, visits
from hallserver.services.context import HallContext
from hallserver.services.lifecycle import log_event, transition
from hallserver.services.tickets import get_ticket

STATUS_LABELS = {WindowStatus.open: "服务中", WindowStatus.paused: "暂停服务", WindowStatus.closed: "已关闭"}


@dataclass(frozen=True)
class WindowView:
    """A window as displays, consoles and the API show it."""

    id: str
    name: str
    number: int
    kind: str
    status: str
    status_reason: str | None
    groups: list[str]
    staff_role: str
    staff_display_name: str | None
    serving: str | None
    serving_ticket_id: int | None
    serving_state: str | None
    suspended: list[str]
    called_at: datetime | None = None  # when the ticket at the window was called


def sync_windows(session: Session, profile: HallProfile, now: datetime) -> None:
    """Create windows the profile adds, refresh their fixed attributes, close ones it removed.
    Live state (status, groups) of existing windows is kept: a restart must not undo a manager."""
    existing = {w.id: w for w in session.exec(select(WindowRow)).all()}
    for w in profile.windows:
        row = existing.pop(w.id, None)
        if row is None:
            session.add(WindowRow(id=w.id, name=w.name, number=w.number, kind=w.kind, updated_at=now))
            session.flush()
            session.add_all(WindowGroup(window_id=w.id, group_code=g) for g in w.groups)
        else:
            row.name, row.number, row.kind = w.name, w.number, w.kind
            session.add(row)
    for row in existing.values():
        row.status, row.status_reason, row.updated_at = WindowStatus.closed, "已从大厅配置中移除", now
        session.add(row)


def _window(session: Session, window_id: str, lock: bool = False) -> WindowRow:
    query = select(WindowRow).where(WindowRow.id == window_id)
    if lock:
        query = query.with_for_update()
    row = session.exec(query).first()
    if row is None:
        raise NotFound(f"没有编号为 {window_id} 的窗口", window_id=window_id)
    return row


def window_groups(session: Session, window_id: str) -> list[str]:
    """The groups a window serves right now."""
    return sorted(session.exec(select(WindowGroup.group_code).where(WindowGroup.window_id == window_id)).all())


def _active(session: Session, ctx: HallContext, window_id: str) -> Ticket | None:
    return session.exec(
        select(Ticket).where(
            Ticket.window_id == window_id,
            Ticket.service_date == ctx.today(),
            col(Ticket.state).in_(ACTIVE_STATES),
        )
    ).first()


def view(session: Session, ctx: HallContext, window_id: str) -> WindowView:
    """The current view of one window."""
    row = _window(session, window_id)
    active = _active(session, ctx, window_id)
    suspended = session.exec(
        select(Ticket.number).where(
            Ticket.window_id == window_id,
            Ticket.service_date == ctx.today(),
            Ticket.state == TicketState.suspended,
        )
    ).all()
    staff_id = None
    profile_window = next((w for w in ctx.profile.windows if w.id == window_id), None)
    if profile_window is not None:
        staff_id = profile_window.staff.a if row.staff_role == "A" else profile_window.staff.b
    return WindowView(
        id=row.id,
        name=row.name,
        number=row.number,
        kind=row.kind,
        status=row.status,
        status_reason=row.status_reason,
        groups=window_groups(session, window_id),
        staff_role=row.staff_role,
        staff_display_name=ctx.profile.staff_member(staff_id).display_name if staff_id else None,
        serving=active.number if active else None,
        serving_ticket_id=active.id if active else None,
        serving_state=active.state if active else None,
        suspended=list(suspended),
        called_at=active.called_at.astimezone(ctx.calendar.zone) if active and active.called_at else None,
    )


def all_views(session: Session, ctx: HallContext) -> list[WindowView]:
    """Every window, in window-number order."""
    ids = session.exec(select(WindowRow.id).order_by(col(WindowRow.number))).all()
    return [view(session, ctx, i) for i in ids]


def set_groups(session: Session, ctx: HallContext, window_id: str, groups: list[str]) -> WindowView:
    """A manager moves a window to other queue groups; the very next call obeys."""
    if not groups:
        raise HallError("invalid", "窗口至少要办理一个队列；如需停办请暂停或关闭窗口")
    for code in groups:
        ctx.group(code)
    _window(session, window_id, lock=True)
    session.execute(delete(WindowGroup).where(col(WindowGroup.window_id) == window_id))
    session.add_all(WindowGroup(window_id=window_id, group_code=g) for g in sorted(set(groups)))
    session.flush()
    return view(session, ctx, window_id)


def set_status(
    session: Session, ctx: HallContext, window_id: str, status: WindowStatus, reason: str | None = None
) -> WindowView:
    """Open, pause or close a window. Closing needs the current citizen finished first."""
    row = _window(session, window_id, lock=True)
    if status == WindowStatus.closed and _active(session, ctx, window_id) is not None:
        raise Conflict("window_busy", f"{row.name}还有正在呼叫或办理的号码，请先办结或转办后再关闭")
    if status != WindowStatus.open and not reason:
        reason = "暂停服务" if status == WindowStatus.paused else "窗口已关闭"
    row.status, row.status_reason, row.updated_at = (
        status,
        reason if status != WindowStatus.open else None,
        ctx.now(),
    )
    session.add(row)
    session.flush()
    return view(session, ctx, window_id)


def set_staff_role(session: Session, ctx: HallContext, window_id: str, role: str) -> WindowView:
    """Swap the window between its A and B holder (AB角)."""
    row = _window(session, window_id, lock=True)
    profile_window = next((w for w in ctx.profile.windows if w.id == window_id), None)
    if role not in ("A", "B"):
        raise HallError("invalid", "岗位只能是A角或B角")
    if role == "B" and (profile_window is None or profile_window.staff.b is None):
        raise HallError("invalid", f"{row.name}没有设置B角")
    row.staff_role, row.updated_at = role, ctx.now()
    session.add(row)
    session.flush()
    return view(session, ctx, window_id)


def call_next(session: Session, ctx: HallContext, window_id: str) -> Ticket | None:
    """Call the next ticket for a window by the hall's allocation policy; None when nobody waits."""
    row = _window(session, window_id, lock=True)
    if row.status != WindowStatus.open:
        raise Conflict("window_not_open", f"{row.name}当前{STATUS_LABELS[WindowStatus(row.status)]}，不能叫号")
    busy = _active(session, ctx, window_id)
    if busy is not None:
        raise Conflict("window_busy", f"请先处理当前号码{busy.number}（办结、过号或转办）", ticket=busy.number)
    policy = allocation.get_policy(ctx.profile.allocation.policy)
    situation = _situation(session, ctx, window_id)
    skipped: set[int] = set()
    while (choice := policy(situation)) is not None:
        ticket = _claim(session, choice.ticket_id)
        if ticket is not None:
            ticket.state = TicketState.called
            ticket.window_id = window_id
            ticket.target_window_id = None
            ticket.called_at = situation.now
            ticket.call_count = 1
            log_event(session, ticket, "call", TicketState.waiting, situation.now, window_id)
            session.flush()
            return ticket
        # Another window is calling it right now: choose again among the others (reloaded, since only the
        # oldest fresh walk-in of each group was loaded).
        skipped.add(choice.ticket_id)
        situation = replace(situation, candidates=_situation(session, ctx, window_id, frozenset(skipped)).candidates)
    return None


def _claim(session: Session, ticket_id: int) -> Ticket | None:
    """Lock a still-waiting ticket for this transaction; None if gone or locked by another window.
    (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite transactions are already serialized.)"""
    return session.exec(
        select(Ticket)
        .where(Ticket.id == ticket_id, Ticket.state == TicketState.waiting)
        .with_for_update(skip_locked=True)
    ).first()


def _situation(
    session: Session, ctx: HallContext, window_id: str, skip: frozenset[int] = frozenset()
) -> allocation.Situation:
    """What the policy sees: the waiting tickets it can choose among (candidates.load: per group the oldest
    fresh walk-in and every other kind, plus the groups an overflow rule lets this window help with once
    their tickets have waited the threshold), the groups' recent service times, the time. `skip`: tickets
    another window claimed during this call."""
    groups = window_groups(session, window_id)
    now = ctx.now()
    where = candidates.reach(window_id, groups, ctx.profile.allocation.overflow)
    found = candidates.load(session, ctx.today(), where, now, skip)
    present = {c.group for c in found}
    means = {g.code: estimates.mean_service_minutes(session, ctx, g) for g in ctx.profile.groups if g.code in present}
    return allocation.Situation(
        window_id, found, means, now, ctx.profile.tickets, ctx.profile.allocation, tuple(groups)
    )


def _current(session: Session, ctx: HallContext, window_id: str) -> Ticket:
    _window(session, window_id, lock=True)
    ticket = _active(session, ctx, window_id)
    if ticket is None:
        raise Conflict("no_ticket", "本窗口当前没有正在呼叫或办理的号码")
    return ticket


def recall(session: Session, ctx: HallContext, window_id: str) -> Ticket:
    """Call the current ticket again (重呼)."""
    ticket = _current(session, ctx, window_id)
    transition(session, ticket, "recall", ctx.now(), window_id=window_id)
    ticket.call_count += 1
    return ticket


def no_show(session: Session, ctx: HallContext, window_id: str) -> Ticket:
    """The called citizen did not come (过号); they may rejoin for a while."""
    ticket = _current(session, ctx, window_id)
    now = ctx.now()
    transition(session, ticket, "no_show", now, window_id=window_id)
    ticket.no_show_at = now
    ticket.window_id = None
    return ticket


def start(session: Session, ctx: HallContext, window_id: str) -> Ticket:
    """The citizen sat down: service starts."""
    ticket = _current(session, ctx, window_id)
    now = ctx.now()
    transition(session, ticket, "start", now, window_id=window_id)
    ticket.started_at = now
    return ticket


def finish(
    session: Session,
    ctx: HallContext,
    window_id: str,
    outcome: Outcome,
    note: str | None = None,
    details: visits.FinishDetails | None = None,
) -> Ticket:
    """End the visit with its outcome and write the visit record (转办 goes through transfer instead)."""
    if outcome == Outcome.transferred:
        raise HallError("invalid", "转办请使用“转办”操作并选择目标队列或窗口")
    ticket = _current(session, ctx, window_id)
    if ticket.state != TicketState.serving:  # refuse before writing a visit for a ticket not yet served
        transition(session, ticket, "finish", ctx.now(), window_id=window_id)
    staff_role = _window(session, window_id).staff_role
    visits.record(session, ctx, ticket, window_id, staff_role, outcome, details, note)
    now = ctx.now()
    transition(session, ticket, "finish", now, window_id=window_id, detail=outcome.value)
    ticket.finished_at = now
    ticket.outcome = outcome
    if note:
        ticket.note = note[:200]
    return ticket


def transfer(
    session: Session,
    ctx: HallContext,
    window_id: str,
    to_group: str | None = None,
    to_window: str | None = None,
) -> Ticket:
    """Send the current ticket to another group or window; it keeps its number and its place."""
    if bool(to_group) == bool(to_window):
        raise HallError("invalid", "转办须且只能指定一个目标：队列或窗口")
    ticket = _current(session, ctx, window_id)
    if to_group:
        group = ctx.group(to_group)
        if group.code == ticket.group_code:
            raise HallError("invalid", f"{ticket.number}号已在“{group.name}”队列中")
        detail = f"转至队列 {group.code}"
    else:
        assert to_window is not None
        if to_window == window_id:
            raise HallError("invalid", "不能转办给本窗口")
        target = _window(session, to_window)
        if target.status == WindowStatus.closed:
            raise Conflict("window_not_open", f"{target.name}已关闭，不能转入")
        detail = f"转至窗口 {to_window}"
    if ticket.state == TicketState.serving:  # the first leg was served: it is a visit of its own (转办)
        staff_role = _window(session, window_id).staff_role
        visits.record(session, ctx, ticket, window_id, staff_role, Outcome.transferred, note=detail)
    transition(session, ticket, "transfer", ctx.now(), window_id=window_id, detail=detail)
    ticket.group_code = to_group or ticket.group_code
    ticket.target_window_id = to_window
    ticket.window_id = None
    ticket.started_at = None
    return ticket


def suspend(session: Session, ctx: HallContext, window_id: str, reason: str | None = None) -> Ticket:
    """Put the current visit on hold (挂起), e.g. while the citizen fetches a copy."""
    ticket = _current(session, ctx, window_id)
    now = ctx.now()
    transition(session, ticket, "suspend", now, window_id=window_id, detail=reason)
    ticket.suspended_at = now
    return ticket


def resume(session: Session, ctx: HallContext, window_id: str, ticket_id: int) -> Ticket:
    """Take a suspended visit back up at the window that suspended it."""
    _window(session, window_id, lock=True)
    ticket = get_ticket(session, ticket_id)
    if ticket.window_id != window_id:
        raise Conflict("forbidden", f"{ticket.number}号不是在本窗口挂起的")
    busy = _active(session, ctx, window_id)
    if busy is not None:
        raise Conflict("window_busy", f"请先处理当前号码{busy.number}，再恢复{ticket.number}号", ticket=busy.number)
    transition(session, ticket, "resume", ctx.now(), window_id=window_id)
    ticket.suspended_at = None
    return ticket
