"""Deadlines on the hall calendar: the 2-working-day transfer and the 5-working-day answer over the National
Day holiday and its adjusted working Saturday; overdue only once the day has passed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from hallcore.clock import ManualClock
from hallcore.complaints import ComplaintSubmit
from hallserver.db import make_engine, session_scope
from hallserver.presentation import alerts, complaint_alerts
from hallserver.services import complaints
from hallserver.services.context import HallContext
from tests.conftest import fresh_sqlite, local


def test_deadlines_over_national_day(
    sqlite_template: Path, tmp_path: Path, ctx: HallContext, clock: ManualClock
) -> None:
    engine = make_engine(fresh_sqlite(sqlite_template, tmp_path))
    clock.set(local(2026, 9, 30, 16, 0))  # the eve of the 1–7 October holiday
    cmd = ComplaintSubmit(kind="complaint", content="取号机无法识别老年人身份证")
    with session_scope(engine) as s:
        out_ref = complaints.submit(s, ctx, cmd, channel="kiosk", by="kiosk-01").complaint.reference
        in_ref = complaints.submit(s, ctx, cmd, channel="window", by="s18").complaint.reference
    with session_scope(engine) as s:
        out = complaints.classify(s, ctx, complaints.get(s, out_ref), False, "m01", department="区公安分局")
        inside = complaints.classify(s, ctx, complaints.get(s, in_ref), True, "m01")
        assert out.due_date == date(2026, 10, 9)  # 8 and 9 October are the two working days
        assert inside.due_date == date(2026, 10, 13)  # 8, 9, 10 (adjusted Saturday), 12, 13
    clock.set(local(2026, 10, 9, 17, 0))
    with session_scope(engine) as s:
        assert complaints.overdue(s, ctx) == []
    clock.set(local(2026, 10, 10, 9, 0))
    with session_scope(engine) as s:
        assert [c.reference for c in complaints.overdue(s, ctx)] == [out_ref]
        floor = alerts.evaluate(alerts.Facts(groups=[], devices=[], cases=complaint_alerts.gather(s, ctx)), ctx.now())
        assert [(a.key, a.level) for a in floor] == [(f"complaint_overdue:{out_ref}", "critical")]
        assert "区公安分局" in floor[0].title and "逾期1天" in floor[0].title
        late = complaints.assign(s, ctx, complaints.get(s, out_ref), "区公安分局", "m01")
        assert complaints.on_time(ctx, late) is False and not complaints.is_overdue(ctx, late)
        figures = complaints.month_figures(s, ctx, date(2026, 9, 1), date(2026, 9, 30))
    assert figures["received"] == 2 and figures["in_remit"] == 1 and figures["out_of_remit"] == 1
    assert figures["on_time"] == 0 and figures["overdue"] == 1
    engine.dispose()
