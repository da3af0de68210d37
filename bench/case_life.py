"""Case-life cost on a busy hall (not a test: prints numbers). Seeds open, overdue and decided cases and 补正
visits into a SQLite file, then times what runs repeatedly: the floor's and desk's watchlist, the
housekeeping deadline sweep (first and steady run), a month's on-time figures and the desk's listing. Each
figure is also given as a ratio to a baseline measured in the same run (reading every case row once).

    python -m bench.case_life [--cases 20000] [--notices 5000]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from hallcore.calendar import HOLIDAYS_FILE
from hallcore.clock import ManualClock
from hallserver.db import make_engine, session_scope, upgrade
from hallserver.models import ServiceCase, Visit
from hallserver.services import case_deadlines, case_desk
from hallserver.services.context import HallContext, load_context
from hallserver.services.keyring import Keyring

DEMO = Path(__file__).resolve().parents[1] / "firmware_config" / "halls" / "demo"
ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 15, 10, 0, tzinfo=ZONE)
STATES = ["已受理", "审查中", "已办结", "待领取", "已领取", "不予批准"]


def seed(engine: sa.Engine, ctx: HallContext, cases: int, notices: int) -> None:
    """Visits and cases over the last 60 days; a third still open, many of those past their promise."""
    rng = random.Random(20261215)
    items = [c for c, i in ctx.catalog.items.items() if not i.time_limit.on_the_spot]
    visits, rows = [], []
    for n in range(cases + notices):
        day = NOW.date() - timedelta(days=rng.randint(0, 60))
        at = datetime(day.year, day.month, day.day, 10, 0, tzinfo=ZONE)
        item = rng.choice(items)
        is_case = n < cases
        visits.append(
            {"id": n + 1, "ticket_id": 1, "ticket_number": "A001", "service_date": day, "group_code": "police",
             "item_code": item, "window_id": "w05", "staff_role": "A", "arrived_at": at, "ended_at": at,
             "wait_s": 0, "service_s": 0, "outcome": "受理" if is_case else "补正",
             "deadline": None if is_case else day + timedelta(days=7),
             "serial_no": f"{item}{day:%Y%m%d}0001{n:05d}" if is_case else None}
        )  # fmt: skip
        if is_case:
            status = STATES[n % len(STATES)]
            promised = day + timedelta(days=rng.randint(3, 20))
            rows.append(
                {"serial_no": visits[-1]["serial_no"], "item_code": item, "visit_id": n + 1, "accepted_at": at,
                 "promised_date": promised, "status": status, "delivery": "窗口领取", "updated_at": at,
                 "decided_at": at + timedelta(days=rng.randint(1, 20)) if status not in STATES[:2] else None}
            )  # fmt: skip
    with engine.begin() as conn:  # a plain engine: SQLite's foreign keys are off (the visits have no tickets)
        conn.execute(sa.insert(Visit.__table__), visits)  # type: ignore[attr-defined]
        conn.execute(sa.insert(ServiceCase.__table__), rows)  # type: ignore[attr-defined]


def timed(fn: Callable[[], object], runs: int = 5) -> float:
    """Median wall time of `runs` calls, in milliseconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--notices", type=int, default=5_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/cases.db"
        upgrade(url)
        engine = make_engine(url)
        ctx = load_context(DEMO, HOLIDAYS_FILE, ManualClock(NOW), b"k" * 32, Keyring((("k1", b"x" * 32),)))
        seed(sa.create_engine(url), ctx, args.cases, args.notices)

        def run(fn: Callable[[sa.orm.Session], object]) -> Callable[[], object]:
            def call() -> object:
                with session_scope(engine) as s:
                    return fn(s)

            return call

        # Baseline: reading every case row once (plain SQL, no ORM objects).
        base = timed(run(lambda s: s.execute(sa.select(ServiceCase.__table__)).fetchall()))  # type: ignore[attr-defined]
        first = timed(run(lambda s: case_deadlines.sweep(s, ctx)), runs=1)
        figures = {
            "watchlist (whole hall)": timed(run(lambda s: case_deadlines.watchlist(s, ctx))),
            "watchlist (市公安局)": timed(run(lambda s: case_deadlines.watchlist(s, ctx, "市公安局"))),
            "deadline sweep, first run": first,
            "deadline sweep, steady": timed(run(lambda s: case_deadlines.sweep(s, ctx))),
            "on-time figures, one month": timed(
                run(lambda s: case_deadlines.on_time_figures(s, ctx, date(2026, 11, 1), date(2026, 11, 30)))
            ),
            "desk listing (市公安局)": timed(run(lambda s: case_desk.listing(s, ctx, "市公安局"))),
        }
        print(f"{args.cases} cases, {args.notices} 补正 notices; baseline (read every case row) {base:.1f} ms")
        for name, ms in figures.items():
            print(f"  {name:<28} {ms:9.1f} ms   {ms / base:8.1f} × baseline")
        engine.dispose()


if __name__ == "__main__":
    main()
