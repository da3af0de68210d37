"""Benchmark of the queue core through the services on a real database (not a test: prints numbers).

Measures ticket issue and call-next latency (p50/p95/p99), single-writer throughput, and many kiosks
issuing at once. SQLite file by default; with --url a PostgreSQL server, where the benchmark creates and
drops a database of its own.

    python -m bench.ticket_core [--url postgresql+psycopg://...] [--tickets 2000] [--kiosks 8]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hallcore.calendar import HOLIDAYS_FILE
from hallcore.clock import ManualClock
from hallcore.commands import Identity, IssueTicket
from hallserver.db import make_engine, session_scope, upgrade
from hallserver.services import tickets, windows
from hallserver.services.context import HallContext, load_context
from hallserver.services.keyring import Keyring

DEMO = Path(__file__).resolve().parents[1] / "firmware_config" / "halls" / "demo"
GROUPS = ["police", "social", "property", "business", "livelihood", "yijianshi"]


def id_number(seed: int) -> str:
    """A valid GB 11643 number for a synthetic citizen."""
    born = date(1950, 1, 1) + timedelta(days=seed // 1000)
    body = f"440305{born:%Y%m%d}{seed % 1000:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def pct(samples: list[float], p: float) -> float:
    """The p-th percentile in milliseconds."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def report(name: str, samples: list[float], wall: float) -> None:
    """Print one line of percentiles and throughput."""
    print(
        f"{name:<34} n={len(samples):5d}  p50={pct(samples, 50):7.2f} ms  p95={pct(samples, 95):7.2f} ms  "
        f"p99={pct(samples, 99):7.2f} ms  mean={statistics.fmean(samples) * 1000:7.2f} ms  "
        f"throughput={len(samples) / wall:8.1f}/s"
    )


def issue_one(engine: object, ctx: HallContext, seed: int) -> None:
    """Issue one real-name ticket in its own transaction."""
    req = IssueTicket(group=GROUPS[seed % len(GROUPS)], identity=Identity(id_number=id_number(seed), method="id_card"))
    with session_scope(engine) as s:  # type: ignore[arg-type]
        tickets.issue_ticket(s, ctx, req)


@contextmanager
def bench_database(server_url: str | None, tmp: str) -> Iterator[str]:
    """A fresh SQLite file, or a fresh database on the given PostgreSQL server (dropped afterwards)."""
    if server_url is None:
        yield f"sqlite:///{tmp}/bench.db"
        return
    name = f"hallq_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def main() -> None:
    """Run the three measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="PostgreSQL server URL (default: a temporary SQLite file)")
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--kiosks", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, bench_database(args.url, tmp) as url:
        upgrade(url)
        engine = make_engine(url)
        clock = ManualClock(datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
        keyring = Keyring((("k1", b"bench-data-key-0123456789abcdef0"),))
        ctx = load_context(DEMO, HOLIDAYS_FILE, clock, b"bench-key-0123456789abcdef012345", keyring)
        with session_scope(engine) as s:
            windows.sync_windows(s, ctx.profile, ctx.now())
        print(f"hallq queue-core benchmark on {engine.dialect.name}, {args.tickets} tickets\n")

        samples = []
        start = time.perf_counter()
        for seed in range(args.tickets):
            clock.advance(seconds=1)
            t0 = time.perf_counter()
            issue_one(engine, ctx, seed)
            samples.append(time.perf_counter() - t0)
        report("ticket.issue (one kiosk)", samples, time.perf_counter() - start)

        concurrent: list[float] = []
        lock = threading.Lock()
        per_kiosk = args.tickets // args.kiosks

        def kiosk(k: int) -> None:
            for n in range(per_kiosk):
                t0 = time.perf_counter()
                issue_one(engine, ctx, 100_000 + k * per_kiosk + n)
                with lock:
                    concurrent.append(time.perf_counter() - t0)

        threads = [threading.Thread(target=kiosk, args=(k,)) for k in range(args.kiosks)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        report(f"ticket.issue ({args.kiosks} kiosks at once)", concurrent, time.perf_counter() - start)

        calls = []
        window_ids = [w.id for w in ctx.profile.windows if set(w.groups) & set(GROUPS)]
        start = time.perf_counter()
        for i in range(min(args.tickets, 1000)):
            window = window_ids[i % len(window_ids)]
            t0 = time.perf_counter()
            with session_scope(engine) as s:
                called = windows.call_next(s, ctx, window)
                if called is not None:
                    windows.no_show(s, ctx, window)
            calls.append(time.perf_counter() - t0)
        report("window.call_next (+ no_show)", calls, time.perf_counter() - start)
        engine.dispose()


if __name__ == "__main__":
    main()
