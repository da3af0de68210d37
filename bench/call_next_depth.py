"""call_next latency against queue depth (issue 19): the same window calls with 10 and with 10,000 tickets
waiting on a migrated SQLite file (or --url PostgreSQL). Prints p50/p99 per depth and the ratio of the deep
queue's p99 to the shallow one's, both measured in this run. Not a test: prints numbers.

    python -m bench.call_next_depth [--depths 10,10000] [--calls 300] [--policy fair]
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from bench.seed import analyze
from bench.ticket_core import DEMO, GROUPS, pct
from hallcore.calendar import HOLIDAYS_FILE
from hallcore.clock import ManualClock
from hallserver.db import make_engine, session_scope, upgrade
from hallserver.models import Priority, Ticket, TicketEvent, TicketState
from hallserver.services import candidates, windows
from hallserver.services.context import HallContext, load_context
from hallserver.services.keyring import Keyring

START = "2026-11-23T09:00:00+08:00"


def _fill(engine: sa.Engine, day: object, start: object, depth: int) -> None:
    """`depth` waiting tickets over the six service groups, 5 % green and 30 % booked, issued over 3 hours."""
    rows = []
    for i in range(depth):
        issued = start - timedelta(seconds=(depth - i) * 10800 / depth)  # type: ignore[operator]
        kind = Priority.green if i % 20 == 0 else Priority.appointment if i % 10 < 3 else Priority.normal
        rows.append(
            {
                "number": f"Q{i}",
                "series": "Q",
                "seq": i,
                "service_date": day,
                "group_code": GROUPS[i % len(GROUPS)],
                "priority": kind,
                "channel": "kiosk",
                "state": TicketState.waiting,
                "issued_at": issued,
                "queue_key": issued,
                "appointment_at": start + timedelta(minutes=30 + i % 240) if kind == Priority.appointment else None,  # type: ignore[operator]
                "call_count": 0,
                "public_token": f"q{i:031d}",
            }
        )
    with session_scope(engine) as s:
        s.execute(sa.delete(TicketEvent))
        s.execute(sa.delete(Ticket))
        if rows:
            s.execute(sa.insert(Ticket), rows)
    analyze(engine)


def run(url: str | None, depths: list[int], calls: int, policy: str) -> None:
    """Measure every depth and print the ratio of the deepest p99 to the shallowest."""
    from datetime import datetime

    clock = ManualClock(datetime.fromisoformat(START))
    keyring = Keyring((("k1", b"bench-data-key-0123456789abcdef0"),))
    ctx = load_context(DEMO, HOLIDAYS_FILE, clock, b"bench-key-0123456789abcdef012345", keyring)
    rules = ctx.profile.allocation.model_copy(update={"policy": policy})
    ctx = dataclasses.replace(ctx, profile=ctx.profile.model_copy(update={"allocation": rules}))
    with tempfile.TemporaryDirectory() as tmp:
        db_url = url or f"sqlite:///{Path(tmp) / 'depth.db'}"
        upgrade(db_url)
        engine = make_engine(db_url)
        with session_scope(engine) as s:
            windows.sync_windows(s, ctx.profile, ctx.now())
        p99 = {}
        for depth in depths:
            p99[depth] = _measure(engine, ctx, depth, calls, policy)
        # The same deepest queue with the full scan this replaced (every waiting ticket into Python).
        bounded = candidates.load
        candidates.load = lambda s, day, where, now, skip=frozenset(): [  # type: ignore[assignment]
            c for c in candidates.load_all(s, day, where, now) if c.ticket_id not in skip
        ]
        try:
            full = _measure(engine, ctx, max(depths), calls, f"{policy}, full scan")
        finally:
            candidates.load = bounded
        engine.dispose()
    lo, hi = min(depths), max(depths)
    print(f"p99 at {hi} waiting / p99 at {lo} waiting = {p99[hi] / p99[lo]:.2f}")
    print(f"p99 at {hi} waiting, bounded / full scan = {p99[hi] / full:.2f}")


def _measure(engine: sa.Engine, ctx: HallContext, depth: int, calls: int, label: str) -> float:
    """p99 (ms) of `calls` call_next + no_show at one window with `depth` tickets waiting; prints a line."""
    _fill(engine, ctx.today(), ctx.now(), depth + calls)
    samples = []
    for _ in range(calls):
        t0 = time.perf_counter()
        with session_scope(engine) as s:
            called = windows.call_next(s, ctx, "w01")
            if called is not None:
                windows.no_show(s, ctx, "w01")
        samples.append(time.perf_counter() - t0)
    line = f"call_next ({label}) with {depth:6d} waiting: p50={pct(samples, 50):7.2f} ms"
    print(f"{line}  p99={pct(samples, 99):7.2f} ms")
    return pct(samples, 99)


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a database URL (default: a temporary SQLite file)")
    parser.add_argument("--depths", default="10,10000")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--policy", default="fair")
    args = parser.parse_args()
    run(args.url, [int(d) for d in args.depths.split(",")], args.calls, args.policy)


if __name__ == "__main__":
    main()
