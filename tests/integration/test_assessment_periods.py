"""季考评 and 年总评 beside 月考核, and the 限时办结 on-time rate in reports, on both backends, with figures
worked out by hand: cases due on either side of the Q3/Q4 boundary (decided around local midnight), and
the whole year. The hall's clock stands on Monday 2026-11-23: Q4 and 2026 are not over yet."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from hallcore.commands import Outcome
from hallcore.complaints import ComplaintSubmit
from hallcore.errors import HallError
from hallserver.models import CaseStatus, ServiceCase, Ticket, Visit
from hallserver.presentation import assessment
from hallserver.services import complaints, reports
from hallserver.services.context import HallContext
from tests.conftest import local
from tests.integration.helpers import tx

POLICE = "11440300MB2D41730K000172203000000"  # 居民身份证换领, 市公安局户政管理支队 (市公安局's)
MEDICAL = "11440300MB2C92647R000166104000000"  # 生育医疗费用报销, 市医疗保障局

# (item, promised date, status, decided at (local) or None)
CASES = [
    (POLICE, date(2026, 9, 30), CaseStatus.completed, local(2026, 9, 30, 15, 0)),  # Q3 on time
    (POLICE, date(2026, 9, 29), CaseStatus.completed, local(2026, 10, 8, 10, 0)),  # Q3 late
    (POLICE, date(2026, 9, 30), CaseStatus.collected, local(2026, 9, 30, 23, 30)),  # Q3 on time (local day)
    (POLICE, date(2026, 9, 30), CaseStatus.denied, local(2026, 10, 1, 0, 30)),  # Q3 late: 00:30 the next day
    (POLICE, date(2026, 8, 10), CaseStatus.suspended, None),  # 中止: the clock stopped, not due
    (POLICE, date(2026, 10, 9), CaseStatus.completed, local(2026, 9, 30, 11, 0)),  # Q4 due, decided early
    (MEDICAL, date(2026, 10, 15), CaseStatus.accepted, None),  # Q4: open past its promise, late already
    (MEDICAL, date(2026, 11, 30), CaseStatus.reviewing, None),  # Q4: open, promise ahead: not counted
    (POLICE, date(2026, 3, 2), CaseStatus.ready, local(2026, 2, 27, 16, 0)),  # Q1 on time
]

# (staff, window, department, item, day, rating GB code or None)
VISITS = [
    ("s06", "w06", "市公安局", POLICE, date(2026, 9, 15), 1),
    ("s06", "w06", "市公安局", POLICE, date(2026, 9, 16), None),
    ("s06", "w06", "市公安局", POLICE, date(2026, 10, 12), 2),
    ("s08", "w08", "市医疗保障局", MEDICAL, date(2026, 10, 20), 5),
]


def seed(engine: Engine) -> None:
    def run(s: object) -> None:
        ticket = Ticket(
            number="A001",
            series="A",
            seq=1,
            service_date=date(2026, 9, 15),
            group_code="police",
            issued_at=local(2026, 9, 15, 9, 0),
            queue_key=local(2026, 9, 15, 9, 0),
        )
        s.add(ticket)  # type: ignore[attr-defined]
        s.flush()  # type: ignore[attr-defined]
        visits = []
        for staff, window, department, item, day, rating in VISITS:
            start: datetime = local(day.year, day.month, day.day, 9, 30)
            visit = Visit(
                ticket_id=ticket.id,
                ticket_number="A001",
                service_date=day,
                group_code="police",  # type: ignore[arg-type]
                window_id=window,
                staff_id=staff,
                staff_role="A",
                department=department,
                item_code=item,
                arrived_at=start - timedelta(minutes=10),
                called_at=start,
                ended_at=start + timedelta(minutes=6),
                wait_s=600,
                service_s=360,
                outcome=Outcome.accepted.value,
                rating_gb=rating,
            )
            s.add(visit)  # type: ignore[attr-defined]
            visits.append(visit)
        s.flush()  # type: ignore[attr-defined]
        for n, (item, promised, status, decided) in enumerate(CASES):
            accepted = local(promised.year, promised.month, promised.day, 9, 0) - timedelta(days=10)
            s.add(  # type: ignore[attr-defined]
                ServiceCase(
                    serial_no=f"T-{n:03d}",
                    item_code=item,
                    visit_id=visits[0].id,
                    accepted_at=accepted,
                    promised_date=promised,
                    status=status,
                    updated_at=decided or accepted,
                    decided_at=decided,
                )
            )

    tx(engine, run)


def figures(f: object) -> tuple[int, int, int, int, float | None]:
    return (f.due, f.on_time, f.late, f.open_overdue, f.rate)  # type: ignore[attr-defined]


def test_on_time_rate_across_a_quarter_boundary_and_a_year(engine: Engine, ctx: HallContext) -> None:
    seed(engine)
    q3 = tx(engine, lambda s: reports.on_time(s, ctx, date(2026, 7, 1), date(2026, 9, 30)))
    assert figures(q3) == (4, 2, 2, 0, 0.5)  # 23:30 on the promised day is on time, 00:30 the next is late
    q4 = tx(engine, lambda s: reports.on_time(s, ctx, date(2026, 10, 1), date(2026, 12, 31)))
    assert figures(q4) == (3, 1, 0, 1, 0.5)  # the open case not yet due is in `due` but not the rate
    year = tx(engine, lambda s: reports.on_time(s, ctx, date(2026, 1, 1), date(2026, 12, 31)))
    assert figures(year) == (8, 4, 2, 1, round(4 / 7, 4))

    # Per item and department, in the report rows (the item's or department's cases promised in the period).
    by_item = tx(engine, lambda s: reports.build(s, ctx, "quarter", date(2026, 9, 15), "item"))
    (police,) = by_item
    assert (police.key, police.visits, police.cases_due, police.cases_on_time, police.on_time_rate) == (
        POLICE,
        2,
        4,
        2,
        0.5,
    )
    by_department = tx(engine, lambda s: reports.build(s, ctx, "quarter", date(2026, 11, 23), "department"))
    rows = {r.key: r for r in by_department}
    assert (rows["市公安局"].cases_due, rows["市公安局"].on_time_rate) == (1, 1.0)
    assert (rows["市医疗保障局"].cases_due, rows["市医疗保障局"].on_time_rate) == (2, 0.0)
    by_window = tx(engine, lambda s: reports.build(s, ctx, "quarter", date(2026, 11, 23), "window"))
    assert all(r.cases_due is None and r.on_time_rate is None for r in by_window)  # cases are not a window's


def test_quarter_and_year_sheets(engine: Engine, ctx: HallContext) -> None:
    seed(engine)
    q3 = tx(engine, lambda s: assessment.build(s, ctx, assessment.quarter_of("2026-Q3"), "quarter"))
    assert (q3.month, q3.first, q3.last, q3.sheet_name, q3.period_text) == (
        "2026-Q3",
        date(2026, 7, 1),
        date(2026, 9, 30),
        "季考评",
        "2026年第三季度",
    )
    assert not q3.partial and q3.worked_days == q3.working_days
    s06 = next(r for r in q3.rows if r["staff_id"] == "s06")
    assert (s06["visits"], s06["completed"], s06["served_days"], s06["rated"], s06["good_rate"]) == (2, 2, 2, 1, 1.0)
    assert s06["service_mean_min"] == 6.0 and s06["first_call_avg"] == "09:30"
    police = next(d for d in q3.departments if d["department"] == "市公安局")
    assert (police["visits"], police["cases_due"], police["cases_on_time"], police["cases_late"]) == (2, 4, 2, 2)
    assert police["on_time_rate"] == 0.5 and q3.hall_on_time["on_time_rate"] == 0.5
    assert any("本季度" in c.header or "本季度" in c.meaning for c in q3.columns)

    q4 = tx(engine, lambda s: assessment.build(s, ctx, date(2026, 11, 5), "quarter"))
    assert q4.month == "2026-Q4" and q4.partial and 0 < q4.worked_days < q4.working_days
    medical = next(d for d in q4.departments if d["department"] == "市医疗保障局")
    assert (medical["visits"], medical["bad"], medical["good_rate"]) == (1, 1, 0.0)
    assert (medical["cases_due"], medical["cases_overdue"], medical["on_time_rate"]) == (2, 1, 0.0)

    year = tx(engine, lambda s: assessment.build(s, ctx, assessment.year_of("2026"), "year"))
    assert (year.month, year.sheet_name, year.period_text, year.partial) == ("2026", "年总评", "2026年度", True)
    s06 = next(r for r in year.rows if r["staff_id"] == "s06")
    assert (s06["visits"], s06["rated"], s06["good_rate"], s06["served_days"]) == (3, 2, 1.0, 3)
    assert year.hall_on_time == {
        "cases_due": 8,
        "cases_on_time": 4,
        "cases_late": 2,
        "cases_overdue": 1,
        "on_time_rate": round(4 / 7, 4),
    }
    assert year.working_days > 240  # 2026 on the hall calendar


def test_complaints_in_the_quarter_sheet(engine: Engine, ctx: HallContext) -> None:
    """The complaints ledger's figures for the period (helper I's complaints.month_figures), labelled."""

    def receive(s: object) -> None:
        for kind in ("complaint", "complaint", "cannot_do"):
            text = "窗口等候时间太长，无人解释"
            complaints.submit(s, ctx, ComplaintSubmit(kind=kind, content=text), channel="window", by="m01")  # type: ignore[arg-type]

    tx(engine, receive)
    q4 = tx(engine, lambda s: assessment.build(s, ctx, date(2026, 11, 23), "quarter"))
    lines = {line["item"]: line["count"] for line in q4.complaints or []}
    assert lines["收到投诉及办不成事反映（件）"] == 3
    assert (lines["其中：投诉"], lines["其中：办不成事反映"], lines["已答复"]) == (2, 1, 0)
    q3 = tx(engine, lambda s: assessment.build(s, ctx, date(2026, 8, 1), "quarter"))
    assert {line["item"]: line["count"] for line in q3.complaints or []}["收到投诉及办不成事反映（件）"] == 0


def test_bad_and_future_periods(engine: Engine, ctx: HallContext) -> None:
    for text, parse in (("2026-Q5", assessment.quarter_of), ("2026-Q0", assessment.quarter_of)):
        with pytest.raises(ValueError):
            parse(text)
    for text in ("26", "2026-01", "abcd"):
        with pytest.raises(ValueError):
            assessment.year_of(text)
    with pytest.raises(HallError) as future:
        tx(engine, lambda s: assessment.build(s, ctx, date(2027, 1, 1), "quarter"))
    assert future.value.code == "invalid" and "尚未开始" in future.value.message
    with pytest.raises(HallError):
        tx(engine, lambda s: assessment.build(s, ctx, date(2026, 1, 1), "week"))
