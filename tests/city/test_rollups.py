"""Rollups equal a recount of the raw records, follow late and changed records, and the month report by
level, hall, department and item reads them (on a real PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Engine, text

from city.reports import month_range, report
from city.rollups import rebuild, refresh_all
from city.store import Store
from tests.city.conftest import NOW, SHANGHAI, case, count, evaluation, message, rectification, visit

NOV = month_range("2026-11")
TODAY = NOW.date()


def _load(store: Store) -> None:
    msgs = []
    seq = {"0001": 0, "0002": 0, "0003": 0}

    def add(hall: str, record: object) -> None:
        seq[hall] += 1
        msgs.append(message(hall, seq[hall], record))

    for n in range(1, 41):  # hall 0001 (区): 40 visits over two days, waits 1..40 min, two departments
        day = date(2026, 11, 20) if n <= 25 else date(2026, 11, 23)
        add("0001", visit(n, day=day, wait_min=n, department="市公安局" if n % 2 else "市人社局"))
    for n in range(1, 11):  # hall 0002 (街道): 10 visits
        add("0002", visit(100 + n, day=date(2026, 11, 23), wait_min=5))
    for n, level in enumerate((1, 1, 2, 3, 4, 5), start=1):  # six ratings at 0001, two of them 差评
        add("0001", evaluation(n, level_gb=level, at=datetime(2026, 11, 20, 11, 0, tzinfo=SHANGHAI)))
    add("0001", case("S1", promised=date(2026, 11, 20), decided=datetime(2026, 11, 19, 16, 0, tzinfo=SHANGHAI)))
    add("0001", case("S2", promised=date(2026, 11, 20)))  # still open: due and late
    add("0001", case("S3", promised=date(2026, 12, 10)))  # not due yet
    add(
        "0001",
        rectification(1, deadline=date(2026, 11, 20), state="已整改", closed=NOW - timedelta(days=4), on_time=True),
    )
    add("0001", rectification(2, deadline=date(2026, 11, 21)))
    result = store.ingest(msgs)
    assert result.stored == len(msgs) and result.rejected == 0


def test_rollups_match_a_recount_of_the_raw_records(store: Store, city_engine: Engine) -> None:
    _load(store)
    assert refresh_all(city_engine) > 0
    assert count(city_engine, "SELECT count(*) FROM rollup_dirty") == 0
    for hall in ("0001", "0002"):
        raw = count(city_engine, "SELECT count(*) FROM rec_visits WHERE hall = :h", h=hall)
        rolled = count(city_engine, "SELECT sum(visits) FROM rollup_daily WHERE hall = :h", h=hall)
        assert rolled == raw
        raw_wait = count(city_engine, "SELECT sum(wait_s) FROM rec_visits WHERE hall = :h", h=hall)
        assert count(city_engine, "SELECT sum(wait_sum_s) FROM rollup_daily WHERE hall = :h", h=hall) == raw_wait
    per_dept = count(
        city_engine,
        "SELECT count(*) FROM rec_visits "
        "WHERE hall = '0001' AND department = '市人社局' AND service_date = '2026-11-20'",
    )
    assert per_dept == count(
        city_engine,
        "SELECT visits FROM rollup_daily WHERE hall = '0001' AND department = '市人社局' AND day = '2026-11-20'",
    )
    with city_engine.connect() as conn:
        before = conn.execute(text("SELECT * FROM rollup_daily ORDER BY 1, 2, 3, 4")).all()
    assert rebuild(city_engine, date(2026, 1, 1)) > 0  # recounting everything changes nothing
    with city_engine.connect() as conn:
        assert conn.execute(text("SELECT * FROM rollup_daily ORDER BY 1, 2, 3, 4")).all() == before


def test_month_report_by_level_hall_and_department(store: Store, city_engine: Engine) -> None:
    _load(store)
    refresh_all(city_engine)
    by_level = {r.key: r for r in report(city_engine, *NOV, "level", TODAY)}
    assert list(by_level) == ["区", "街道"], "levels in order 市 区 街道 社区, only those with data"
    district = by_level["区"]
    assert district.visits == 40
    assert district.avg_wait_min == round(sum(range(1, 41)) / 40, 1)
    assert district.p90_wait_min == 45  # 90% of waits 1..40 min fall at or below the 45-minute bucket
    assert (district.ratings, district.bad, district.good_rate) == (6, 2, round(4 / 6, 4))
    assert (district.cases_due, district.cases_on_time_rate) == (2, 0.5), "S3 is not due yet"
    assert (district.rect_due, district.rect_on_time_rate) == (2, 0.5)
    assert by_level["街道"].visits == 10
    halls = {r.key: r for r in report(city_engine, *NOV, "hall", TODAY)}
    assert halls["0001"].label == "南山区政务服务中心" and halls["0002"].visits == 10
    depts = {r.key: r.visits for r in report(city_engine, *NOV, "department", TODAY, hall="0001")}
    assert depts == {"市公安局": 20, "市人社局": 20}
    assert report(city_engine, *month_range("2026-10"), "level", TODAY) == []


def test_a_late_record_makes_its_day_dirty_again(store: Store, city_engine: Engine) -> None:
    _load(store)
    refresh_all(city_engine)
    store.ingest([message("0002", 11, visit(999, day=date(2026, 11, 23), wait_min=50))])
    assert count(city_engine, "SELECT count(*) FROM rollup_dirty WHERE hall = '0002'") == 1
    refresh_all(city_engine)
    assert count(city_engine, "SELECT sum(visits) FROM rollup_daily WHERE hall = '0002'") == 11
    # A case decided after the rollup: its due day is recounted from the newest state.
    on_time = "SELECT sum(cases_on_time) FROM rollup_daily WHERE hall = '0001' AND day = '2026-11-20'"
    assert count(city_engine, on_time) == 1
    decided = datetime(2026, 11, 20, 17, 0, tzinfo=SHANGHAI)  # decided on its due day, reported late
    store.ingest([message("0001", 99, case("S2", status="办结", promised=date(2026, 11, 20), decided=decided))])
    refresh_all(city_engine)
    assert count(city_engine, on_time) == 2


def test_monthly_rollups_give_the_same_report_and_follow_late_records(store: Store, city_engine: Engine) -> None:
    _load(store)
    refresh_all(city_engine)
    later = date(2026, 12, 5)  # November is over: its report reads rollup_monthly
    month_rows = "SELECT count(*) FROM rollup_monthly WHERE month = '2026-11-01'"
    assert count(city_engine, month_rows) > 0
    assert count(city_engine, "SELECT sum(visits) FROM rollup_monthly") == count(
        city_engine, "SELECT count(*) FROM rec_visits"
    )
    for by in ("level", "hall", "department", "item"):
        assert report(city_engine, *NOV, by, later) == report(city_engine, *NOV, by, later, monthly=False)
    store.ingest([message("0002", 11, visit(999, day=date(2026, 11, 23), wait_min=95))])  # late, longest wait
    refresh_all(city_engine)
    halls = {r.key: r for r in report(city_engine, *NOV, "hall", later)}
    assert halls["0002"].visits == 11 and halls["0002"].max_wait_min == 95.0
    assert halls == {r.key: r for r in report(city_engine, *NOV, "hall", later, monthly=False)}
    # A range that is part whole month (monthly rows), part loose days (daily rows).
    mixed = (date(2026, 11, 1), date(2026, 12, 3))
    assert report(city_engine, *mixed, "department", later) == report(
        city_engine, *mixed, "department", later, monthly=False
    )
    partial = {r.key: r.visits for r in report(city_engine, date(2026, 11, 21), date(2026, 12, 1), "hall", later)}
    assert partial == {"0001": 15, "0002": 11}, "days within a month come from the daily rollups"
