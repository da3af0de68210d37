"""Shared parts of the city benches: a city on loopback (PostgreSQL, city broker, registry of N halls, ingest
workers) and a load generator that plays N halls' bridges — publishers logged in with each hall's own
account, no hall server and no bridge in between ("bridge-less publishers") — in a process of its own."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from broker.mosquitto import free_port
from city.broker import INGEST_USERNAME, CityBroker, bridge_username
from city.cluster.postgres import LocalPostgres
from hallcore.sync import (
    CaseRecord,
    DeviceHealthRecord,
    EvaluationRecord,
    QueueSnapshotRecord,
    VisitRecord,
    envelope,
)

ROOT = Path(__file__).resolve().parents[1]
CITY = "bench-city"


def code_of(n: int) -> str:
    """The n-th hall code of the bench (1-based): 0001 … 0300."""
    return f"{n:04d}"


def record_for(seq: int, at: datetime) -> Any:
    """A record of the peak-hour mix, by seq: per visit 1 visit + 3 case moves + 1 rating, then device health
    (a county hall's ~67 devices report once a minute: about one record a second) and a queue snapshot."""
    slot = seq % 12
    if slot == 0:
        return VisitRecord(
            visit_id=seq, ticket="A012", service_date=at.date(), group="police", item_code="A1",
            department="市公安局", window_id="w05", staff_id="s05", channel="kiosk", priority="normal",
            arrived_at=at - timedelta(minutes=12), called_at=at - timedelta(minutes=9), ended_at=at,
            wait_s=540, service_s=180, outcome="受理", serial_no=f"11440300MB2D4173{seq:08d}"[:24],
        )  # fmt: skip
    if slot in (1, 2, 3):
        return CaseRecord(
            serial_no=f"S{seq:012d}", item_code="A1", department="市公安局", status="已受理", at=at,
            accepted_at=at, promised_date=(at + timedelta(days=5)).date(),
        )  # fmt: skip
    if slot == 4:
        return EvaluationRecord(
            evaluation_id=seq, visit_id=seq, level_gb=1, is_bad=False, channel="evaluator", item_code="A1",
            department="市公安局", window_id="w05", at=at,
        )  # fmt: skip
    if slot == 11:
        return QueueSnapshotRecord(at=at, waiting=12, open_windows=8, longest_wait_min=20)
    return DeviceHealthRecord(at=at, online=66, offline=1, problems=["printer-w03"])


@dataclass
class City:
    """A running bench city."""

    root: Path
    pg: LocalPostgres
    url: str
    broker: CityBroker
    codes: list[str]

    def env(self) -> dict[str, str]:
        """The ingest's environment."""
        return {
            "HALLQ_CITY_DATABASE_URL": self.url,
            "HALLQ_CITY_CITY_ID": CITY,
            "HALLQ_CITY_BROKER_HOST": self.broker.host,
            "HALLQ_CITY_BROKER_PORT": str(self.broker.port),
            "HALLQ_CITY_BROKER_USERNAME": INGEST_USERNAME,
            "HALLQ_CITY_BROKER_PASSWORD": self.broker.account(INGEST_USERNAME).password,
            "HALLQ_CITY_ROLLUP_INTERVAL_S": "3600",
            "HALLQ_CITY_LOG_LEVEL": "warning",
        }

    def logins(self, codes: list[str]) -> list[tuple[str, str]]:
        """(code, password) of each hall's bridge account."""
        return [(c, self.broker.account(bridge_username(c)).password) for c in codes]

    def count(self, sql: str) -> int:
        """One number from the city database."""
        out = self.pg.psql("hallq_city", sql).strip()
        return int(out or 0)


@contextmanager
def bench_city(halls: int, fsync: bool = True) -> Iterator[City]:
    """PostgreSQL (fsync on unless told), the migrated city database with `halls` registered, the city broker."""
    from city.db import make_engine, upgrade
    from city.partitions import Partitions
    from city.registry import assign_hall

    root = Path(tempfile.mkdtemp(prefix="hallq-citybench-"))
    root.chmod(0o755)
    pg = LocalPostgres(root / "pg", free_port(), fsync=fsync)
    pg.start()
    broker: CityBroker | None = None
    try:
        url = pg.create_database("hallq_city")
        upgrade(url)
        engine = make_engine(url, pool_size=1, max_overflow=1)
        now = datetime.now(UTC)
        Partitions(engine).ensure_ahead(now.date(), behind=1, ahead=2)
        codes = [code_of(n) for n in range(1, halls + 1)]
        for code in codes:
            assign_hall(engine, name=f"基准大厅{code}", level="区", region_code="440305", now=now, code=code,
                        hall_id=f"bench-{code.lower()}", bridge_account=bridge_username(code))  # fmt: skip
        engine.dispose()
        broker = CityBroker(CITY, codes, root / "secret", root / "broker", free_port(), persistence=False)
        broker.start()
        yield City(root, pg, url, broker, codes)
    finally:
        if broker is not None:
            broker.stop()
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)


class Ingest:
    """`hallq city ingest --workers N` as a process group of its own."""

    def __init__(self, city: City, workers: int = 2) -> None:
        self.city, self.workers = city, workers
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = (self.city.root / "ingest.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hallq", "city", "ingest", "--workers", str(self.workers)],
            env={**os.environ, **self.city.env()}, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
            start_new_session=True,
        )  # fmt: skip
        log.close()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def wait_for(city: City, sql: str, target: int, timeout: float) -> float:
    """Seconds until the query reaches target (raises after timeout)."""
    start = time.monotonic()
    while city.count(sql) < target:
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"{sql} did not reach {target} within {timeout:g} s (at {city.count(sql)})")
        time.sleep(0.2)
    return time.monotonic() - start


# --- the load generator (its own process) ---------------------------------------------------------------


def _generate(host: str, port: int, logins: list[tuple[str, str]], per_hall: int, rate: float, first_seq: int,
              result_file: str, wait_acks_s: float) -> None:  # fmt: skip
    """Publish `per_hall` records for every hall at `rate` records/s in total (0: as fast as QoS 1 allows),
    round robin; record each record's publish time and the time its hall's ack covered it."""
    sent: dict[str, dict[int, float]] = {code: {} for code, _ in logins}
    acked_upto: dict[str, int] = {code: first_seq - 1 for code, _ in logins}
    lags: list[float] = []
    lock = threading.Lock()
    clients: dict[str, mqtt.Client] = {}

    def on_ack(code: str, payload: bytes) -> None:
        upto = int(json.loads(payload)["upto"])
        now = time.monotonic()
        with lock:
            for seq in range(acked_upto[code] + 1, upto + 1):
                t = sent[code].pop(seq, None)
                if t is not None:
                    lags.append(now - t)
            acked_upto[code] = max(acked_upto[code], upto)

    for code, password in logins:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-{code}", protocol=mqtt.MQTTv311)
        client.username_pw_set(bridge_username(code), password)
        client.max_inflight_messages_set(200)
        client.on_connect = lambda c, u, f, r, p, code=code: c.subscribe(f"hall/{code}/sync/ack", qos=1)
        client.on_message = lambda c, u, m, code=code: on_ack(code, m.payload)
        client.connect(host, port, keepalive=60)
        client.loop_start()
        clients[code] = client
    time.sleep(1.0)
    start = time.monotonic()
    n = 0
    for i in range(per_hall):
        seq = first_seq + i
        for code, _ in logins:
            if rate > 0:
                due = start + n / rate
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            at = datetime.now(UTC)
            record = record_for(seq, at)
            env = envelope(code, seq, at, record)
            stream = {"visit.finished": "visits", "case.status": "cases", "evaluation": "evaluations",
                      "device.health": "device_health", "queue.snapshot": "queue_snapshots"}[env.kind]  # fmt: skip
            with lock:
                sent[code][seq] = time.monotonic()
            info = clients[code].publish(f"hall/{code}/sync/up/{stream}", env.model_dump_json(), qos=1)
            if rate <= 0:
                info.wait_for_publish(30)
            n += 1
    published_s = time.monotonic() - start
    deadline = time.monotonic() + wait_acks_s
    while time.monotonic() < deadline:
        with lock:
            if all(not pending for pending in sent.values()):
                break
        time.sleep(0.1)
    for client in clients.values():
        client.disconnect()
        client.loop_stop()
    with lock:
        missing = sum(len(p) for p in sent.values())
    Path(result_file).write_text(
        json.dumps({"published": n, "published_s": published_s, "lags": lags, "unacked": missing}), encoding="utf-8"
    )


@dataclass
class LoadResult:
    """What the generator saw."""

    published: int
    published_s: float
    lags: list[float]
    unacked: int

    def percentile(self, p: float) -> float:
        ordered = sorted(self.lags)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


class LoadGenerator:
    """The generator in its own process (spawned), so its CPU is not the ingest's or the bench's."""

    def __init__(self, city: City, codes: list[str], per_hall: int, rate: float, first_seq: int = 1,
                 wait_acks_s: float = 60) -> None:  # fmt: skip
        self.result = city.root / f"load-{time.monotonic_ns()}.json"
        ctx = multiprocessing.get_context("spawn")
        self.proc = ctx.Process(
            target=_generate,
            args=(
                city.broker.host,
                city.broker.port,
                city.logins(codes),
                per_hall,
                rate,
                first_seq,
                str(self.result),
                wait_acks_s,
            ),
        )

    def start(self) -> LoadGenerator:
        self.proc.start()
        return self

    def join(self, timeout: float = 900) -> LoadResult:
        self.proc.join(timeout)
        if self.proc.is_alive():
            self.proc.kill()
            raise TimeoutError("load generator did not finish")
        data = json.loads(self.result.read_text(encoding="utf-8"))
        return LoadResult(data["published"], data["published_s"], data["lags"], data["unacked"])
