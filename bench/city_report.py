"""City month report over 10 million visits (issue 17: ≤ 1 s).

    python -m bench.city_report [--visits 10000000] [--halls 300] [--month 2026-11]

Rows are generated inside PostgreSQL with generate_series straight into the partitioned record tables
(visits, and a rating for every third visit), spread over the month's days, 300 halls, 12 departments and
120 items; then the daily rollups are rebuilt with the city's own code (`city.rollups.rebuild`) and the
month report (`city.reports.report`) runs by level, hall, department and item. Baseline in the same run: the
same month's visit counts and waits grouped straight from the raw records (what the rollups save).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from bench.city_load import bench_city
from city.db import make_engine
from city.partitions import Partitions
from city.reports import DIMENSIONS, month_range, report
from city.rollups import rebuild

DEPARTMENTS = ("市公安局", "市人社局", "市医保局", "市不动产登记中心", "市住房公积金中心", "市市场监管局",
               "市税务局", "市民政局", "市残联", "市卫健委", "市交通运输局", "市教育局")  # fmt: skip


def generate(psql: Callable[..., str], visits: int, halls: int, start: date, days: int) -> float:
    """Insert `visits` visits and visits/3 ratings with generate_series, a million rows a statement; seconds."""
    depts = "ARRAY[" + ",".join(f"'{d}'" for d in DEPARTMENTS) + "]"
    began = time.monotonic()
    chunk = 1_000_000
    for lo in range(1, visits + 1, chunk):
        hi = min(visits, lo + chunk - 1)
        psql("hallq_city", VISITS.format(halls=halls, depts=depts, lo=lo, hi=hi, days=days, start=start), None)
        print(f"  {hi:,} visits generated ({time.monotonic() - began:.0f} s)", flush=True)
    for lo in range(1, visits // 3 + 1, chunk):
        hi = min(visits // 3, lo + chunk - 1)
        psql("hallq_city", RATINGS.format(halls=halls, depts=depts, lo=lo, hi=hi, days=days, start=start,
                                          base=visits), None)  # fmt: skip
    psql("hallq_city", "ANALYZE", None)
    return time.monotonic() - began


VISITS = """
INSERT INTO rec_visits (hall, seq, at, received_at, kind, record, service_date, department, item_code,
                        wait_s, service_s)
SELECT lpad(((g % {halls}) + 1)::text, 4, '0'), g, d.at, d.at, 'visit.finished', '{{}}'::jsonb,
       (d.at AT TIME ZONE 'Asia/Shanghai')::date, ({depts})[(abs(hashint8(g)) % 12) + 1],
       'I' || lpad(((abs(hashint8(g)) % 12) * 10 + abs(hashint8(-g)) % 10)::text, 3, '0'),
       ((g::bigint * 7919) % 5400)::int, 120 + (g % 900)
FROM generate_series({lo}, {hi}) AS g,
     LATERAL (SELECT TIMESTAMPTZ '{start} 09:00+08' + (((g / {halls}) % {days}) || ' days')::interval
                     + (((g / {days}) % 28800) || ' seconds')::interval AS at) d
"""
RATINGS = """
INSERT INTO rec_evaluations (hall, seq, at, received_at, kind, record, department, item_code, level_gb, is_bad)
SELECT lpad(((g % {halls}) + 1)::text, 4, '0'), {base} + g, d.at, d.at, 'evaluation', '{{}}'::jsonb,
       ({depts})[(abs(hashint8(g)) % 12) + 1],
       'I' || lpad(((abs(hashint8(g)) % 12) * 10 + abs(hashint8(-g)) % 10)::text, 3, '0'),
       1 + (g % 20 = 0)::int * 4, g % 20 = 0
FROM generate_series({lo}, {hi}) AS g,
     LATERAL (SELECT TIMESTAMPTZ '{start} 10:00+08' + (((g / {halls}) % {days}) || ' days')::interval
                     + (((g / {days}) % 25200) || ' seconds')::interval AS at) d
"""


def raw_baseline(engine: object, start: date, end: date) -> float:
    """The month by department straight from the raw visits (no rollups): seconds."""
    from sqlalchemy import text

    began = time.monotonic()
    with engine.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(
            text(
                "SELECT department, count(*), sum(wait_s), max(wait_s) FROM rec_visits "
                "WHERE service_date >= :s AND service_date < :e GROUP BY department"
            ),
            {"s": start, "e": end},
        ).all()
    return time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=10_000_000)
    parser.add_argument("--halls", type=int, default=300)
    parser.add_argument("--month", default="2026-11")
    args = parser.parse_args()
    start, end = month_range(args.month)
    days = (end - start).days
    with bench_city(args.halls, fsync=False) as city:
        engine = make_engine(city.url, pool_size=1, max_overflow=1)
        Partitions(engine).ensure({(s, start) for s in ("visits", "evaluations")})
        took = generate(city.pg.psql, args.visits, args.halls, start, days)
        print(f"city report bench: {args.visits:,} visits (+{args.visits // 3:,} ratings) over {days} days, "
              f"{args.halls} halls generated in {took:.0f} s")  # fmt: skip
        began = time.monotonic()
        rebuild(engine, start)
        daily_n = city.count("SELECT count(*) FROM rollup_daily")
        monthly_n = city.count("SELECT count(*) FROM rollup_monthly")
        print(f"rollups rebuilt from the raw records in {time.monotonic() - began:.1f} s: {daily_n:,} daily rows "
              f"(hall × day × department × item), {monthly_n:,} monthly rows")  # fmt: skip
        baseline = min(raw_baseline(engine, start, end) for _ in range(2))
        today = datetime.now(UTC).date()
        for by in DIMENSIONS:
            times, daily_times = [], []
            for _ in range(3):
                began = time.monotonic()
                rows = report(engine, start, end, by, today)
                times.append(time.monotonic() - began)
                began = time.monotonic()
                daily_rows = report(engine, start, end, by, today, monthly=False)
                daily_times.append(time.monotonic() - began)
            best, worst = min(times), max(times)
            total = sum(r.visits for r in rows)
            print(f"month report by {by:<10}: {len(rows):>4} rows, {total:,} visits, {best * 1000:.0f} ms "
                  f"(worst of 3 {worst * 1000:.0f} ms; target ≤ 1,000 ms); from the daily rollups only "
                  f"{min(daily_times) * 1000:.0f} ms (worst {max(daily_times) * 1000:.0f} ms); raw-table baseline "
                  f"{baseline * 1000:.0f} ms; ratio monthly/raw {best / baseline:.3f}, "
                  f"monthly/daily {best / min(daily_times):.3f}")  # fmt: skip
            assert total == args.visits, f"the report lost visits: {total} of {args.visits}"
            assert rows == daily_rows, "the monthly rollups differ from the daily ones"
        engine.dispose()


if __name__ == "__main__":
    main()
