"""The what-if's inputs read from the database at ctx.now(): the live windows, who waits now, today's arrivals
so far, the same weekday's arrival curve over the last 8 weeks (or the hall's bundled scenario curve when there
is no history yet) and recent service times. It stands beside the simulator, above services (which may not
import the simulation); the simulation itself is pure (whatif.py) and runs outside any transaction."""

from __future__ import annotations

import functools
import itertools
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from firmware_config.hall import HallLevel
from hallcore.errors import Conflict
from hallserver.models import ACTIVE_STATES, Priority, Ticket, TicketState, WindowGroup, WindowRow, WindowStatus
from hallserver.services.context import HallContext
from hallserver.simulation.scenario import Scenario, load_scenario
from hallserver.simulation.whatif import GroupToday, Today, WaitingNow, WindowToday

HISTORY_WEEKS = 8
SERVICE_SAMPLE = 100  # recent visits per group for the service-time mean and spread
MIN_SERVICE_SAMPLE = 5
RATIO_BOUNDS = (0.5, 2.0)  # today's pace against the curve, at most halved or doubled
MIN_EXPECTED_FOR_RATIO = 20  # below this many expected tickets so far, today's pace says too little
SCENARIO_BY_LEVEL = {
    HallLevel.province: "city",
    HallLevel.city: "city",
    HallLevel.district: "county",
    HallLevel.street: "county",
    HallLevel.community: "county",
}


@dataclass(frozen=True)
class Source:
    """Where the arrival curve came from, for the page."""

    kind: str  # history | scenario
    label: str  # Chinese, shown on the page
    history_days: int
    arrived_today: int
    expected_so_far: float
    pace: float  # today's arrivals so far ÷ the curve's by now (1.0 when unknown)
    excluded_windows: list[str]  # not open now (paused/closed), left out of the prediction


def _minutes(t: datetime, midnight: datetime) -> float:
    return (t - midnight).total_seconds() / 60


def _same_weekdays(today: date) -> list[date]:
    return [today - timedelta(weeks=k) for k in range(1, HISTORY_WEEKS + 1)]


def _history(
    session: Session, ctx: HallContext, days: list[date]
) -> tuple[Counter[int], Counter[tuple[str, str]], int]:
    """Tickets of these days by local clock hour and by (group, priority), and how many of the days had any.
    Counted by the database (one CASE over the day's hour boundaries per day): no ticket row comes back."""
    by_hour: Counter[int] = Counter()
    by_kind: Counter[tuple[str, str]] = Counter()
    with_tickets = 0
    for day in days:
        midnight = datetime.combine(day, datetime.min.time(), ctx.calendar.zone)
        bounds = [(h, midnight + timedelta(hours=h + 1)) for h in range(23)]
        hour = sa.case(*((col(Ticket.issued_at) < end, h) for h, end in bounds), else_=23)
        rows = session.execute(
            sa.select(hour, sa.func.count()).where(col(Ticket.service_date) == day).group_by(hour)
        ).all()
        if rows:
            with_tickets += 1
        for h, n in rows:
            by_hour[int(h)] += int(n)
    kinds = session.execute(
        sa.select(col(Ticket.group_code), col(Ticket.priority), sa.func.count())
        .where(col(Ticket.service_date).in_(days))
        .group_by(col(Ticket.group_code), col(Ticket.priority))
    ).all()
    for group, priority, n in kinds:
        by_kind[(group, priority)] += int(n)
    return by_hour, by_kind, with_tickets


def _rest_of_curve(per_hour: dict[int, float], now: float) -> tuple[dict[str, float], float]:
    """Expected tickets per clock hour from now on (the current hour pro rata), and expected so far."""
    rest, so_far = {}, 0.0
    for hour, n in per_hour.items():
        lo, hi = hour * 60, hour * 60 + 60
        ahead = max(0.0, hi - max(lo, now)) / 60
        if ahead > 0:
            rest[f"{hour:02d}"] = n * ahead
        so_far += n * (1 - ahead)
    return rest, so_far


def hall_scenario(ctx: HallContext) -> Scenario:
    """The bundled scenario that stands for this hall until it has history (by administrative level)."""
    return _scenario(SCENARIO_BY_LEVEL.get(ctx.profile.hall.level, "county"))


@functools.lru_cache(maxsize=8)
def _scenario(key: str) -> Scenario:
    return load_scenario(key)  # a frozen model: safe to share


def read_today(session: Session, ctx: HallContext, seed: int | None = None) -> tuple[Today, Source]:
    """Today's inputs at ctx.now(); refused when the hall is not open today or has closed."""
    now_at = ctx.now()
    day = now_at.date()
    midnight = datetime.combine(day, datetime.min.time(), ctx.calendar.zone)
    periods = ctx.calendar.periods(day)
    if not periods:
        raise Conflict("closed", "今天不是办公日，无法推演")
    close = _minutes(periods[-1][1], midnight)
    now = max(_minutes(now_at, midnight), _minutes(periods[0][0], midnight))
    if now >= close - 1:
        raise Conflict("closed", "今日办公时间已结束，无法推演剩余时段")
    gaps = tuple(
        (_minutes(a[1], midnight), _minutes(b[0], midnight))
        for a, b in itertools.pairwise(periods)
        if _minutes(b[0], midnight) > now
    )

    by_hour, by_kind, days = _history(session, ctx, _same_weekdays(day))
    arrived_today = session.exec(
        select(sa.func.count()).select_from(Ticket).where(Ticket.service_date == day, Ticket.issued_at <= now_at)
    ).one()
    scenario = hall_scenario(ctx)
    codes = [g.code for g in ctx.profile.groups]
    if days:
        per_hour = {h: n / days for h, n in by_hour.items()}
        total = sum(by_kind.values())
        shares = {c: sum(n for (g, _), n in by_kind.items() if g == c) / total for c in codes}
        green = sum(n for (_, p), n in by_kind.items() if p == Priority.green) / total
        booked = sum(n for (_, p), n in by_kind.items() if p == Priority.appointment) / total
        label = f"近{HISTORY_WEEKS}周同一工作日（{days}天）的取号曲线"
    else:
        scale = len(ctx.profile.windows) / scenario.window_count
        weight = sum(scenario.arrival_curve.values())
        per_hour = {int(h): scenario.visits * scale * w / weight for h, w in scenario.arrival_curve.items()}
        known = {g.code: g.share for g in scenario.groups}
        spare = min(known.values())
        shares = {c: known.get(c, spare) for c in codes}
        green, booked = scenario.green_share, scenario.appointments.share
        label = f"暂无历史数据，采用“{scenario.name}”的典型曲线"
    rest, so_far = _rest_of_curve(per_hour, now)
    pace = 1.0
    if so_far >= MIN_EXPECTED_FOR_RATIO:
        pace = min(max(arrived_today / so_far, RATIO_BOUNDS[0]), RATIO_BOUNDS[1])
    rest = {h: n * pace for h, n in rest.items()}

    groups = tuple(_group(session, ctx, scenario, g.code, shares.get(g.code, 0.0)) for g in ctx.profile.groups)
    bookable = any(g.bookable for g in groups)
    windows, excluded = _windows(session, ctx, now_at, midnight, {g.code: g.service_mean for g in groups})
    waiting = _waiting(session, ctx, day, midnight)
    today = Today(
        day=day,
        now=now,
        close=close,
        gaps=gaps,
        groups=groups,
        windows=windows,
        waiting=waiting,
        curve=rest,
        hall_windows=tuple(w.id for w in ctx.profile.windows),
        tickets=ctx.profile.tickets,
        allocation=ctx.profile.allocation,
        appointment_share=min(booked, 0.9) if bookable else 0.0,
        green_share=min(green, 0.5),
        patience=scenario.patience,
        walk_minutes=scenario.walk_minutes,
        seed=seed if seed is not None else scenario.seed,
    )
    source = Source(
        kind="history" if days else "scenario",
        label=label,
        history_days=days,
        arrived_today=int(arrived_today),
        expected_so_far=round(so_far, 1),
        pace=round(pace, 2),
        excluded_windows=excluded,
    )
    return today, source


def _group(session: Session, ctx: HallContext, scenario: Scenario, code: str, share: float) -> GroupToday:
    """A group's share and its recent service time (mean and spread of the last visits; else a default)."""
    g = ctx.profile.group(code)
    rows = session.exec(
        select(Ticket.started_at, Ticket.finished_at)
        .where(Ticket.group_code == code, Ticket.state == TicketState.done, col(Ticket.started_at).is_not(None))
        .order_by(col(Ticket.finished_at).desc())
        .limit(SERVICE_SAMPLE)
    ).all()
    minutes = [max((b - a).total_seconds() / 60, 0.1) for a, b in rows if a and b]
    known = next((s for s in scenario.groups if s.code == code), None)
    if len(minutes) >= MIN_SERVICE_SAMPLE:
        mean = statistics.fmean(minutes)
        cv = min(max(statistics.pstdev(minutes) / mean, 0.1), 3.0)
    else:
        mean, cv = g.default_service_minutes, known.service.cv if known else 0.7
    return GroupToday(
        code=code,
        name=g.name,
        prefix=g.prefix,
        share=share,
        service_mean=min(mean, 240.0),
        service_cv=cv,
        bookable=not g.anonymous_allowed,
    )


def _windows(
    session: Session, ctx: HallContext, now_at: datetime, midnight: datetime, means: dict[str, float]
) -> tuple[tuple[WindowToday, ...], list[str]]:
    """Open windows with their live groups; a window with a visit under way is busy for what remains of
    the group's mean service time."""
    rows = session.exec(select(WindowRow).order_by(col(WindowRow.number))).all()
    links = session.exec(select(WindowGroup.window_id, WindowGroup.group_code)).all()
    groups: dict[str, list[str]] = {}
    for wid, code in links:
        groups.setdefault(wid, []).append(code)
    active = session.exec(
        select(Ticket).where(Ticket.service_date == midnight.date(), col(Ticket.state).in_(ACTIVE_STATES))
    ).all()
    busy = {t.window_id: t for t in active if t.window_id}
    known = {g.code for g in ctx.profile.groups}
    out, excluded = [], []
    for row in rows:
        served = tuple(sorted(g for g in groups.get(row.id, []) if g in known))
        if row.status != WindowStatus.open or not served:
            excluded.append(row.name)
            continue
        busy_for = 0.0
        ticket = busy.get(row.id)
        if ticket is not None:
            since = ticket.started_at or ticket.called_at or now_at
            busy_for = max(means.get(ticket.group_code, 10.0) - (now_at - since).total_seconds() / 60, 0.5)
        out.append(WindowToday(row.id, row.name, row.kind, served, busy_for))
    return tuple(out), excluded


def _waiting(session: Session, ctx: HallContext, day: date, midnight: datetime) -> tuple[WaitingNow, ...]:
    rows = session.exec(
        select(Ticket.group_code, Ticket.priority, Ticket.queue_key, Ticket.appointment_at)
        .where(Ticket.service_date == day, Ticket.state == TicketState.waiting)
        .order_by(col(Ticket.queue_key))
    ).all()
    known = {g.code for g in ctx.profile.groups}
    return tuple(
        WaitingNow(
            group=group,
            priority=priority,
            queued=_minutes(queued, midnight),
            slot=_minutes(slot, midnight) if slot else None,
        )
        for group, priority, queued, slot in rows
        if group in known
    )
