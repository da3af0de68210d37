"""Report speed on a year of data (not a test: prints numbers). Generates a working year of visits for the
demo hall into a SQLite file (≥ 500,000 by default), with ratings and rectifications, then times every report.

    python -m bench.report_year [--visits 520000] [--url sqlite:///path.db]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from hallcore.calendar import HOLIDAYS_FILE
from hallcore.clock import ManualClock
from hallserver.db import make_engine, session_scope, upgrade
from hallserver.models import Evaluation, Rectification, Ticket, Visit
from hallserver.services import reports
from hallserver.services.context import load_context
from hallserver.services.keyring import Keyring

DEMO = Path(__file__).resolve().parents[1] / "firmware_config" / "halls" / "demo"
ZONE = ZoneInfo("Asia/Shanghai")
YEAR = 2026
CHUNK = 20_000


def working_days(ctx_calendar: object, year: int) -> list[date]:
    """Every working day of the year by the hall's calendar."""
    day, out = date(year, 1, 1), []
    while day.year == year:
        if ctx_calendar.holidays.is_working_day(day):  # type: ignore[attr-defined]
            out.append(day)
        day += timedelta(days=1)
    return out


def generate(engine: sa.Engine, ctx: object, total: int, rng: random.Random) -> int:
    """Bulk-insert a year of visits (with one placeholder ticket per day), ratings and rectifications."""
    profile = ctx.profile  # type: ignore[attr-defined]
    windows = [w for w in profile.windows]
    items = list(ctx.catalog.items)  # type: ignore[attr-defined]
    days = working_days(ctx.calendar, YEAR)  # type: ignore[attr-defined]
    per_day = total // len(days) + 1
    visit_id = rect_id = 0
    with session_scope(engine) as s:
        for n, day in enumerate(days, start=1):
            opened = datetime(day.year, day.month, day.day, 9, tzinfo=ZONE)
            s.execute(
                sa.insert(Ticket.__table__),
                [
                    {  # type: ignore[attr-defined]
                        "id": n,
                        "number": "A001",
                        "series": "A",
                        "seq": 1,
                        "service_date": day,
                        "group_code": "police",
                        "priority": "normal",
                        "channel": "kiosk",
                        "state": "done",
                        "issued_at": opened,
                        "queue_key": opened,
                        "call_count": 1,
                    }
                ],
            )
            visits, evaluations, rects = [], [], []
            for _ in range(per_day):
                if visit_id >= total:
                    break
                visit_id += 1
                w = rng.choice(windows)
                staff = w.staff.a if rng.random() < 0.9 else w.staff.b
                arrived = opened + timedelta(seconds=rng.randint(0, 8 * 3600))
                wait, service = int(rng.expovariate(1 / 900)), int(rng.expovariate(1 / 600)) + 60
                visits.append(
                    {
                        "id": visit_id,
                        "ticket_id": n,
                        "ticket_number": "A001",
                        "service_date": day,
                        "group_code": w.groups[0],
                        "item_code": rng.choice(items),
                        "window_id": w.id,
                        "staff_id": staff,
                        "staff_role": "A",
                        "department": profile.staff_member(staff).department,
                        "arrived_at": arrived,
                        "ended_at": arrived + timedelta(seconds=wait + service),
                        "wait_s": wait,
                        "service_s": service,
                        "outcome": "受理",
                        "rating_gb": None,
                        "rect_state": None,
                    }
                )
                if rng.random() < 0.6:
                    level = rng.choices([1, 2, 3, 4, 5], [70, 20, 7, 2, 1])[0]
                    evaluations.append(
                        {
                            "id": visit_id,
                            "visit_id": visit_id,
                            "kind": "initial",
                            "level_gb": level,
                            "is_bad": level >= 4,
                            "channel": "evaluator",
                            "created_at": arrived,
                        }
                    )
                    visits[-1]["rating_gb"] = level
                    if level >= 4:
                        rect_id += 1
                        done = arrived + timedelta(days=rng.choice([2, 5, 9]))
                        visits[-1]["rect_state"] = "on_time" if done.date() <= day + timedelta(days=7) else "late"
                        rects.append(
                            {
                                "id": rect_id,
                                "evaluation_id": visit_id,
                                "visit_id": visit_id,
                                "department": visits[-1]["department"],
                                "window_id": w.id,
                                "state": "closed",
                                "opened_at": arrived,
                                "deadline": day + timedelta(days=7),
                                "rectified_at": done,
                            }
                        )
            for table, rows in ((Visit, visits), (Evaluation, evaluations), (Rectification, rects)):
                for i in range(0, len(rows), CHUNK):
                    s.execute(sa.insert(table.__table__), rows[i : i + CHUNK])  # type: ignore[attr-defined]
    return visit_id


def main() -> None:
    """Generate, then time each report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=520_000)
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{tmp}/year.db"
        upgrade(url)
        engine = make_engine(url)
        clock = ManualClock(datetime(YEAR, 12, 31, 18, tzinfo=ZONE))
        ctx = load_context(
            DEMO,
            HOLIDAYS_FILE,
            clock,
            b"bench-key-0123456789abcdef012345",
            Keyring((("k1", b"bench-data-key-0123456789abcdef0"),)),
        )
        t0 = time.perf_counter()
        made = generate(engine, ctx, args.visits, random.Random(2026))
        print(
            f"hallq reports on one year of data ({engine.dialect.name}): {made:,} visits generated "
            f"in {time.perf_counter() - t0:.1f} s\n"
        )
        for period, day in (("year", date(YEAR, 6, 1)), ("quarter", date(YEAR, 6, 1)), ("month", date(YEAR, 6, 1))):
            for by in reports.DIMENSIONS:
                times, rows = [], []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    with session_scope(engine) as s:
                        rows = reports.build(s, ctx, period, day, by)
                    times.append(time.perf_counter() - start)
                covered = sum(r.visits for r in rows)
                print(
                    f"{period:<8} by {by:<11} rows={len(rows):3d} visits={covered:8,d}  "
                    f"median={statistics.median(times) * 1000:7.0f} ms  max={max(times) * 1000:7.0f} ms"
                )
        engine.dispose()


if __name__ == "__main__":
    main()
