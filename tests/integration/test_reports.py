"""Reports on both backends, with numbers worked out by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from hallcore.errors import HallError
from hallserver.models import Ticket, Visit
from hallserver.services import reports
from hallserver.services.context import HallContext
from tests.conftest import local
from tests.integration.helpers import tx

DAY = date(2026, 11, 23)


def seed(engine: Engine) -> None:
    """Ten visits at w05 (waits 1..10 min, service 5 min), two at w06; ratings and rectifications."""

    def run(s: object) -> None:
        t = Ticket(
            number="A001",
            series="A",
            seq=1,
            service_date=DAY,
            group_code="police",
            issued_at=local(2026, 11, 23, 9, 0),
            queue_key=local(2026, 11, 23, 9, 0),
        )
        s.add(t)  # type: ignore[attr-defined]
        s.flush()  # type: ignore[attr-defined]
        visits = []
        for i in range(12):
            window, staff = ("w05", "s05") if i < 10 else ("w06", "s06")
            start: datetime = local(2026, 11, 23, 9, 0) + timedelta(minutes=i)
            visit = Visit(
                ticket_id=t.id,
                ticket_number="A001",
                service_date=DAY,
                group_code="police",  # type: ignore[arg-type]
                window_id=window,
                staff_id=staff,
                staff_role="A",
                department="市公安局",
                arrived_at=start,
                ended_at=start,
                wait_s=60 * (i + 1),
                service_s=300,
                outcome="咨询",
            )
            s.add(visit)  # type: ignore[attr-defined]
            visits.append(visit)
        s.flush()  # type: ignore[attr-defined]
        levels = [1, 1, 2, 3, 4, 5]  # GB codes: two 差评 among six ratings at w05
        for visit, level in zip(visits, levels, strict=False):
            # As the evaluation services write them: the rating and, for a 差评, the rectification outcome.
            visit.rating_gb = level
            if level >= 4:
                visit.rect_state = "late" if level == 5 else "on_time"
            s.add(visit)  # type: ignore[attr-defined]

    tx(engine, run)


def test_report_by_window(engine: Engine, ctx: HallContext) -> None:
    seed(engine)
    rows = tx(engine, lambda s: reports.build(s, ctx, "day", DAY, "window"))
    w05, w06 = rows
    assert (w05.key, w05.name, w05.visits) == ("w05", "5号窗口", 10)
    assert w05.wait_mean_min == 5.5  # waits 1..10 minutes
    assert w05.wait_p90_min == 9.5  # the 9th of 10 waits is 9 min, reported to the 30 s bucket's end
    assert (w05.service_mean_min, w05.service_p90_min) == (5.0, 5.0)  # all took 5 min: p90 ≤ the longest
    assert (w05.rated, w05.bad, w05.good_rate) == (6, 2, round(4 / 6, 4))
    assert (w05.rectifications, w05.rectified_on_time_rate) == (2, 0.5)  # one on time, one late
    assert (w06.visits, w06.rated, w06.good_rate, w06.rectified_on_time_rate) == (2, 0, None, None)


def test_report_by_staff_department_and_periods(engine: Engine, ctx: HallContext) -> None:
    seed(engine)
    staff = tx(engine, lambda s: reports.build(s, ctx, "month", DAY, "staff"))
    assert [(r.key, r.visits) for r in staff] == [("s05", 10), ("s06", 2)]
    assert staff[0].name == ctx.profile.staff_member("s05").display_name
    dept = tx(engine, lambda s: reports.build(s, ctx, "year", DAY, "department"))
    assert [(r.name, r.visits) for r in dept] == [("市公安局", 12)]
    assert tx(engine, lambda s: reports.build(s, ctx, "day", DAY + timedelta(days=1), "window")) == []


@pytest.mark.parametrize(
    ("period", "first", "last"),
    [
        ("day", "2026-11-23", "2026-11-23"),
        ("month", "2026-11-01", "2026-11-30"),
        ("quarter", "2026-10-01", "2026-12-31"),
        ("year", "2026-01-01", "2026-12-31"),
    ],
)
def test_periods(period: str, first: str, last: str) -> None:
    assert reports.period_range(period, DAY) == (date.fromisoformat(first), date.fromisoformat(last))


def test_bad_arguments(engine: Engine, ctx: HallContext) -> None:
    with pytest.raises(HallError, match="统计维度"):
        tx(engine, lambda s: reports.build(s, ctx, "day", DAY, "colour"))
    with pytest.raises(HallError, match="统计周期"):
        reports.period_range("week", DAY)
