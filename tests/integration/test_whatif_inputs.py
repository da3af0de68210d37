"""The what-if's inputs as read from a real database (SQLite and PostgreSQL): the same weekday's hourly curve
counted in the hall's local hours, group and priority shares, today's pace, who waits now, windows busy or
paused, and recent service times; the bundled scenario stands in when there is no history."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from hallcore.clock import ManualClock
from hallcore.errors import HallError
from hallserver.db import session_scope
from hallserver.models import Priority, Ticket, TicketState, WindowRow, WindowStatus
from hallserver.services.context import HallContext
from hallserver.simulation.today import Source, read_today
from hallserver.simulation.whatif import Today
from tests.conftest import local

TODAY = date(2026, 11, 23)
_seq: dict[tuple[str, date], int] = {}


def ticket(
    group: str,
    at: datetime,
    state: TicketState = TicketState.done,
    priority: str = Priority.normal,
    service_min: float | None = None,
    window: str | None = None,
) -> Ticket:
    """A ticket row issued at `at` (served for `service_min` when given)."""
    series = {"police": "A", "social": "B", "consult": "G"}[group]
    key = (series, at.date())
    _seq[key] = _seq.get(key, 0) + 1
    started = at + timedelta(minutes=3) if service_min is not None or state == TicketState.serving else None
    return Ticket(
        number=f"{series}{_seq[key]:03d}",
        series=series,
        seq=_seq[key],
        service_date=at.date(),
        group_code=group,
        priority=priority,
        state=state,
        issued_at=at,
        queue_key=at,
        window_id=window,
        called_at=started,
        started_at=started,
        finished_at=started + timedelta(minutes=service_min) if started and service_min is not None else None,
    )


def read(engine: Engine, ctx: HallContext) -> tuple[Today, Source]:
    with session_scope(engine) as s:
        return read_today(s, ctx)


@pytest.fixture(autouse=True)
def _fresh_numbers() -> None:
    _seq.clear()


def test_inputs_from_the_database(engine: Engine, ctx: HallContext, clock: ManualClock) -> None:
    rows = [
        # Last Monday: hours 09 (2), 10 (2), 14 (4, one green, one booked); an 08:59 ticket is hour 08.
        ticket("police", local(2026, 11, 16, 9, 5), service_min=6),
        ticket("police", local(2026, 11, 16, 9, 55), service_min=6),
        ticket("social", local(2026, 11, 16, 10, 10), service_min=6),
        ticket("social", local(2026, 11, 16, 10, 59), service_min=6),
        ticket("consult", local(2026, 11, 16, 14, 0), service_min=2),
        ticket("consult", local(2026, 11, 16, 14, 30), service_min=2),
        ticket("police", local(2026, 11, 16, 14, 40), priority=Priority.green),
        ticket("police", local(2026, 11, 16, 14, 59), priority=Priority.appointment),
        ticket("consult", local(2026, 11, 16, 8, 59)),
        # Two weeks ago: two tickets at 10.
        ticket("consult", local(2026, 11, 9, 10, 0)),
        ticket("consult", local(2026, 11, 9, 10, 45)),
        # A Tuesday is another weekday: not counted.
        ticket("consult", local(2026, 11, 17, 10, 0)),
        # Today: one done, two waiting, one at w05 being served since 10:25.
        ticket("police", local(2026, 11, 23, 9, 10), service_min=6),
        ticket("consult", local(2026, 11, 23, 10, 0), TicketState.waiting),
        ticket("social", local(2026, 11, 23, 10, 5), TicketState.waiting, Priority.green),
        ticket("police", local(2026, 11, 23, 10, 22), TicketState.serving, window="w05"),
    ]
    with session_scope(engine) as s:
        s.add_all(rows)
        row = s.get(WindowRow, "w18")
        assert row is not None
        row.status = WindowStatus.paused
        s.add(row)
    clock.set(local(2026, 11, 23, 10, 30))
    today, source = read(engine, ctx)

    assert (source.kind, source.history_days, source.arrived_today) == ("history", 2, 4)
    # Per day (2 days with tickets): hour 08 0.5, 09 1, 10 2 (2 + 2), 14 2. From 10:30: half of hour 10, hour 14.
    assert today.curve == pytest.approx({"10": 1.0, "14": 2.0})
    assert source.expected_so_far == pytest.approx(0.5 + 1 + 1)
    assert source.pace == 1.0  # too few expected so far to judge today's pace
    shares = {g.code: g.share for g in today.groups}
    assert shares["police"] == pytest.approx(4 / 11) and shares["consult"] == pytest.approx(5 / 11)
    assert today.green_share == pytest.approx(1 / 11) and today.appointment_share == pytest.approx(1 / 11)
    assert today.now == 630 and today.close == 18 * 60 and today.gaps == ()
    assert [(w.group, w.priority, w.queued) for w in today.waiting] == [
        ("consult", "normal", 600.0),
        ("social", "green", 605.0),
    ]
    assert "18号窗口" in source.excluded_windows and all(w.id != "w18" for w in today.windows)
    w05 = next(w for w in today.windows if w.id == "w05")
    police = next(g for g in today.groups if g.code == "police")
    # Police's recent visits: three of 6 minutes — fewer than five, so the profile's default stands.
    assert police.service_mean == ctx.profile.group("police").default_service_minutes
    assert w05.busy_for == pytest.approx(police.service_mean - 5)  # started 10:25, 5 minutes ago
    assert next(g for g in today.groups if g.code == "consult").bookable is False  # anonymous consultation


def test_recent_service_times_and_todays_pace(engine: Engine, ctx: HallContext, clock: ManualClock) -> None:
    # Eight weeks of Mondays with 30 tickets each between 09:00 and 10:00, and today 45 by 10:00 (pace 1.5).
    rows = []
    for week in range(1, 9):
        day = TODAY - timedelta(weeks=week)
        for i in range(30):
            rows.append(ticket("consult", local(day.year, day.month, day.day, 9, 0) + timedelta(minutes=2 * i)))
    for i in range(45):
        rows.append(ticket("consult", local(2026, 11, 23, 9, 0) + timedelta(seconds=80 * i), service_min=4 + i % 3))
    rows.append(ticket("consult", local(2026, 9, 21, 9, 30)))  # nine weeks ago: not counted
    with session_scope(engine) as s:
        s.add_all(rows)
    clock.set(local(2026, 11, 23, 10, 0))
    today, source = read(engine, ctx)
    assert source.history_days == 8 and source.expected_so_far == pytest.approx(30)
    assert source.pace == 1.5
    consult = next(g for g in today.groups if g.code == "consult")
    assert consult.service_mean == pytest.approx(5.0, abs=0.05)  # 4, 5, 6 minutes in turn
    assert 0.1 <= consult.service_cv < 0.3


def test_without_history_the_bundled_scenario_stands_in(engine: Engine, ctx: HallContext, clock: ManualClock) -> None:
    clock.set(local(2026, 11, 23, 9, 0))
    today, source = read(engine, ctx)
    assert source.kind == "scenario" and "县级政务服务中心" in source.label
    # The county day (3,600 visits on 30 windows) scaled to the demo hall's 20 windows.
    assert today.expected_arrivals == pytest.approx(3600 * 20 / 30)
    assert today.waiting == () and len(today.windows) == 20


def test_closed_days_and_hours_are_refused(engine: Engine, ctx: HallContext, clock: ManualClock) -> None:
    clock.set(local(2026, 11, 22, 10, 0))  # Sunday
    with pytest.raises(HallError, match="今天不是办公日"):
        read(engine, ctx)
    clock.set(local(2026, 11, 23, 17, 59, 30))
    with pytest.raises(HallError, match="今日办公时间已结束"):
        read(engine, ctx)
    clock.set(local(2026, 11, 23, 7, 30))  # before opening: the whole day from 09:00
    today, _ = read(engine, ctx)
    assert today.now == 540
