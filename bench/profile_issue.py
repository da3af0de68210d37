"""Where a ticket.issue goes on the server (not a test: reports numbers): the gateway's own handler for
`request/ticket.issue`, called directly N times under cProfile with a real broker and database, and its
time split into the stages the report names.

    python -m bench.profile_issue [--n 500] [--url postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from bench.live_hall import DEMO, FIRST_DAY, ZONE, morning, working_days
from bench.load_kiosks import ANONYMOUS, GROUP_MIX
from bench.ticket_core import bench_database, id_number
from broker.messages import Request
from broker.mosquitto import BrokerProcess, free_port, render
from broker.topics import Topics
from firmware_config.devices import load_devices
from firmware_config.hall import load_hall_profile
from hallcore.clock import OffsetClock
from hallserver.app import create_app
from hallserver.db import make_engine, upgrade
from hallserver.gateway.gateway import Gateway
from hallserver.gateway.requests import RequestJob
from hallserver.models import Ticket
from hallserver.settings import Settings

# Stage → the functions whose cumulative time it is (module path fragment, function name).
TOPIC = Topics("demo").request("kiosk-01", "ticket.issue")
WHAT_IF_INDEX = "ix_bench_what_if_service_time"
HISTORY = 36_000  # finished visits already in the database: two working weeks of a county hall
HISTORIES = (0, 3_600, 36_000, 90_000)  # a day, two weeks, about a month of a county hall
STAGES = {
    "issue (services: checks, person, counter, ticket, event, people ahead)": ("services/tickets.py", "issue"),
    "  of which plain SQL statements (ticket_rows.run, driver time included)": ("services/ticket_rows.py", "run"),
    "  of which the estimate (cached capacity and service time)": ("services/estimates.py", "wait_for"),
    "  of which the person (HMAC, AES-GCM; upsert is a plain statement)": ("services/people.py", "person_upsert"),
    "savepoint per request (plain SAVEPOINT / RELEASE)": ("services/ticket_rows.py", "savepoint"),
    "stored-reply lookup (idempotency, 1 SELECT per batch)": ("gateway/requests.py", "_logged"),
    "replies on the bus (serialize + paho publish)": ("gateway/requests.py", "_reply"),
    "transaction commit (SQLite / PostgreSQL round trip)": ("sqlalchemy/engine/base.py", "_commit_impl"),
    "request validation (pydantic)": ("pydantic/main.py", "model_validate"),
}


@dataclass(frozen=True)
class Breakdown:
    """Per-request milliseconds of each stage and of the whole handler."""

    backend: str
    n: int
    per_request_ms: float
    stages: dict[str, float]
    top: list[tuple[str, float]]


@contextmanager
def gateway_on(server_url: str | None = None, history: int = 0, index: bool = False) -> Iterator[Gateway]:
    """A started gateway on a real broker and a fresh database holding `history` earlier visits (and, for
    the what-if only, the index the per-group service-time query lacks)."""
    root = Path(tempfile.mkdtemp(prefix="hallq-prof-"))
    root.chmod(0o755)  # the broker runs as the mosquitto user
    try:
        hall = load_hall_profile(DEMO / "hall.yaml")
        devices = load_devices(DEMO / "devices.yaml", hall)
        broker = BrokerProcess(render(hall, devices, root / "secret", root / "broker", port=free_port())).start()
        try:
            with bench_database(server_url, str(root)) as url:
                upgrade(url)
                seed_history(url, history)
                if index:
                    _add_index(url)
                settings = Settings(
                    database_url=url,
                    identity_key="b" * 32,
                    secret_dir=root / "secret",
                    broker_host=broker.host,
                    broker_port=broker.port,
                )
                with TestClient(create_app(settings, OffsetClock(morning(working_days(1)[0])))) as http:
                    gateway: Gateway = http.app.state.hall.gateway  # type: ignore[attr-defined]
                    gateway.client.wait_connected(10)
                    gateway.drain()
                    yield gateway
        finally:
            broker.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def profile(n: int, server_url: str | None = None, history: int = 0, batch: int = 1) -> Breakdown:
    """Run the gateway's handler on n requests, `batch` per transaction, on one thread (as its worker does in
    production: under load the requests queued up are answered together), profiled."""
    with gateway_on(server_url, history) as gateway:
        payloads = _payloads(n, 500_000)
        profiler = cProfile.Profile()
        t0 = time.perf_counter()
        profiler.enable()
        for first in range(0, n, batch):  # the worker thread's job for one batch
            gateway._handle_batch([RequestJob(gateway, TOPIC, p) for p in payloads[first : first + batch]])
        profiler.disable()
        wall = time.perf_counter() - t0
        return _breakdown(gateway.engine.dialect.name, n, wall, pstats.Stats(profiler))


def _payloads(n: int, offset: int) -> list[bytes]:
    groups = list(GROUP_MIX)
    out = []
    for i in range(n):
        group = groups[i % len(groups)]
        body = {
            "ts": datetime.now(ZONE).isoformat(),
            "request_id": Request.new_id(),
            "group": group,
        }
        if group not in ANONYMOUS:
            body["identity"] = {"id_number": id_number(offset + i), "method": "id_card"}
        out.append(json.dumps(body).encode())
    return out


def _add_index(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE INDEX {WHAT_IF_INDEX} ON ticket (group_code, state, finished_at)"))
    engine.dispose()


def seed_history(url: str, visits: int, per_day: int = 3600) -> None:
    """Finished visits of earlier days, as a hall accumulates them (tickets only: enough for the queries
    that read the history — the per-group mean service time reads done tickets of every day)."""
    if visits <= 0:
        return
    engine = make_engine(url)
    groups = list(GROUP_MIX)
    rows, first = [], FIRST_DAY - timedelta(days=visits // per_day + 2)
    for i in range(visits):
        day = first + timedelta(days=i // per_day)
        at = datetime.combine(day, dtime(9), tzinfo=ZONE) + timedelta(seconds=(i % per_day) * 8)
        group = groups[i % len(groups)]
        seq = i % per_day + 1
        rows.append(
            {
                "number": f"Z{seq:04d}"[:8],
                "series": "Z",
                "seq": seq,
                "service_date": day,
                "group_code": group,
                "priority": "normal",
                "channel": "kiosk",
                "state": "done",
                "issued_at": at,
                "queue_key": at,
                "call_count": 1,
                "called_at": at + timedelta(minutes=5),
                "started_at": at + timedelta(minutes=6),
                "finished_at": at + timedelta(minutes=6 + 1 + i % 9),
                "outcome": "咨询",
                "window_id": "w01",
            }
        )
    with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(sa.insert(Ticket), rows[start : start + 5000])
    engine.dispose()


def what_if(n: int, server_url: str | None = None, history: int = HISTORY) -> dict[str, float]:
    """Milliseconds per ticket.issue (no profiler) on a database with `history` earlier visits, answered one
    request per transaction (a quiet hall) and in batches of several requests per transaction (group commit:
    what the worker does when requests queue up under load)."""
    return {f"{size} request(s) per transaction": _timed(n, server_url, history, batch=size) for size in (1, 8, 32, 64)}


def history_effect(n: int, histories: tuple[int, ...], server_url: str | None = None) -> dict[int, float]:
    """Milliseconds per ticket.issue (as built) after `h` finished visits of earlier days."""
    return {h: _timed(n, server_url, h) for h in histories}


def _timed(n: int, server_url: str | None, history: int = 0, index: bool = False, batch: int = 1) -> float:
    """Wall milliseconds per ticket.issue on the gateway's handler, no profiler, `batch` per transaction."""
    with gateway_on(server_url, history, index) as gateway:
        payloads = _payloads(n, 700_000)
        t0 = time.perf_counter()
        for first in range(0, n, batch):
            gateway._handle_batch([RequestJob(gateway, TOPIC, p) for p in payloads[first : first + batch]])
        return (time.perf_counter() - t0) / n * 1000


def _breakdown(backend: str, n: int, wall: float, stats: pstats.Stats) -> Breakdown:
    raw = stats.stats  # type: ignore[attr-defined]
    stages = {}
    for label, (path, name) in STAGES.items():
        cum = sum(v[3] for (file, _line, func), v in raw.items() if func == name and path in file)
        stages[label] = cum / n * 1000
    own = sorted(
        ((f"{Path(file).name}:{func}", v[2] / n * 1000) for (file, _l, func), v in raw.items()), key=lambda x: -x[1]
    )[:12]
    return Breakdown(backend, n, wall / n * 1000, stages, own)


def main() -> None:
    """Profile and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--url")
    parser.add_argument("--batch", type=int, default=1, help="requests per transaction (32: a loaded worker)")
    parser.add_argument("--profile-only", action="store_true", help="skip the history and group-commit runs")
    args = parser.parse_args()
    b = profile(args.n, args.url, batch=args.batch)
    print(
        f"ticket.issue on the gateway worker ({b.backend}), n={b.n}, {args.batch} per transaction: "
        f"{b.per_request_ms:.2f} ms per request (profiled) → at most {1000 / b.per_request_ms:.0f} requests/s "
        "on one worker thread"
    )
    for label, ms in b.stages.items():
        print(f"  {ms:6.3f} ms {ms / b.per_request_ms:6.1%}  {label}")
    print("  top self time (share of the profiled time per request):")
    for name, ms in b.top:
        print(f"  {ms:6.3f} ms {ms / b.per_request_ms:6.1%}  {name}")
    if args.profile_only:
        return
    print(f"history: ms per ticket.issue after N finished visits of earlier days (n={args.n // 2})")
    for h, ms in history_effect(args.n // 2, HISTORIES, args.url).items():
        print(f"  {h:7d} visits: {ms:7.2f} ms → ≤ {1000 / ms:4.0f}/s")
    print(f"group commit, with {HISTORY} visits of history (ms per request, same run):")
    for label, ms in what_if(args.n // 2, args.url).items():
        print(f"  {ms:6.2f} ms per request → ≤ {1000 / ms:4.0f}/s  {label}")


if __name__ == "__main__":
    main()
