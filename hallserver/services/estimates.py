"""Estimated waiting time per group from recent service times and the windows open for it."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from firmware_config.hall import QueueGroup
from hallserver.models import Ticket, TicketState, WindowGroup, WindowRow, WindowStatus
from hallserver.services import read_cache
from hallserver.services.context import HallContext


def mean_service_minutes(session: Session, ctx: HallContext, group: QueueGroup) -> float:
    """Mean start→finish minutes of the group's most recent visits; the group default until any exist.
    Kept until a visit starts or ends (read_cache), not re-read for every ticket."""
    engine = session.get_bind()
    cached = read_cache.get(engine, "service_minutes", group.code)
    if cached is not None:
        return float(cached)
    token = read_cache.token(engine, "service_minutes")
    minutes = _read_service_minutes(session, ctx, group)
    read_cache.put(engine, "service_minutes", token, group.code, minutes)
    return minutes


def _read_service_minutes(session: Session, ctx: HallContext, group: QueueGroup) -> float:
    rows = session.exec(
        select(Ticket.started_at, Ticket.finished_at)
        .where(
            Ticket.group_code == group.code,
            Ticket.state == TicketState.done,
            col(Ticket.started_at).is_not(None),
        )
        .order_by(col(Ticket.finished_at).desc())
        .limit(ctx.profile.allocation.service_time_sample)
    ).all()
    durations = [(end - start).total_seconds() / 60 for start, end in rows if start and end]
    return sum(durations) / len(durations) if durations else group.default_service_minutes


def window_capacity(session: Session) -> dict[str, float]:
    """Open windows per group, a window serving k groups counting 1/k for each. Read once and kept until a
    write to the window tables commits (read_cache), instead of a join over every window per ticket."""
    engine = session.get_bind()
    cached = read_cache.get(engine, "window_capacity", None)
    if cached is not None:
        return dict(cached)
    token = read_cache.token(engine, "window_capacity")
    capacity = _read_capacity(session)
    read_cache.put(engine, "window_capacity", token, None, capacity)
    return dict(capacity)


def _read_capacity(session: Session) -> dict[str, float]:
    rows = session.exec(
        select(WindowGroup.window_id, WindowGroup.group_code)
        .join(WindowRow, col(WindowRow.id) == WindowGroup.window_id)
        .where(WindowRow.status == WindowStatus.open)
    ).all()
    groups_of: dict[str, list[str]] = defaultdict(list)
    for window_id, group_code in rows:
        groups_of[window_id].append(group_code)
    capacity: dict[str, float] = defaultdict(float)
    for groups in groups_of.values():
        for code in groups:
            capacity[code] += 1 / len(groups)
    return dict(capacity)


def wait_for(
    session: Session, ctx: HallContext, group: QueueGroup, ahead: int, capacity: float | None = None
) -> int | None:
    """Minutes until a ticket with `ahead` people before it is called; None when no window serves it."""
    cap = window_capacity(session).get(group.code, 0.0) if capacity is None else capacity
    if cap <= 0:
        return None
    return math.ceil(ahead * mean_service_minutes(session, ctx, group) / cap)


@dataclass(frozen=True)
class GroupState:
    """What a queue display and a manager see for one group."""

    group: str
    name: str
    prefix: str
    waiting: int
    longest_wait_min: int
    estimated_wait_min: int | None
    open_windows: float
    alert: bool


def queue_state(session: Session, ctx: HallContext, now: datetime | None = None) -> list[GroupState]:
    """Waiting count, longest wait and estimated wait of every group, today."""
    now = now or ctx.now()
    rows = session.exec(
        select(Ticket.group_code, func.count(), func.min(Ticket.issued_at))
        .where(Ticket.service_date == now.date(), Ticket.state == TicketState.waiting)
        .group_by(Ticket.group_code)
    ).all()
    waiting = {code: (int(n), oldest) for code, n, oldest in rows}
    capacity = window_capacity(session)
    states = []
    for group in ctx.profile.groups:
        n, oldest = waiting.get(group.code, (0, None))
        longest = int((now - oldest).total_seconds() // 60) if oldest else 0
        states.append(
            GroupState(
                group=group.code,
                name=group.name,
                prefix=group.prefix,
                waiting=n,
                longest_wait_min=longest,
                estimated_wait_min=wait_for(session, ctx, group, n, capacity.get(group.code, 0.0)),
                open_windows=round(capacity.get(group.code, 0.0), 2),
                alert=longest >= group.wait_alert_minutes,
            )
        )
    return states
