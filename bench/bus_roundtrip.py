"""Bus latency on loopback (not a test: prints numbers): the bare Mosquitto round trip and the
ticket.issue round trip through the real gateway and database, measured in the same run.

    python -m bench.bus_roundtrip [--n 1000]
"""

from __future__ import annotations

import argparse
import threading
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from bench.loopback import loopback_hall
from bench.ticket_core import id_number, pct
from broker.client import BusClient, BusSettings
from broker.messages import DeviceAvailability, Request, ServerAvailability, TicketIssue
from broker.topics import Topics
from firmware_config.credentials import device_account, server_account
from hallcore.clock import OffsetClock
from hallserver.app import create_app

DEMO = Path(__file__).resolve().parents[1] / "firmware_config" / "halls" / "demo"
ZONE = ZoneInfo("Asia/Shanghai")
OPEN = datetime(2026, 11, 23, 9, 0, tzinfo=ZONE)  # a Monday morning: the hall is open


def line(name: str, samples: list[float]) -> str:
    """One printed line of percentiles."""
    return (
        f"{name:<34} n={len(samples):5d}  p50={pct(samples, 50):6.2f} ms  p95={pct(samples, 95):6.2f} ms  "
        f"p99={pct(samples, 99):6.2f} ms"
    )


def bare_roundtrip(host: str, port: int, secret: Path, n: int) -> list[float]:
    """Publish and receive back through the broker, QoS 1, one message at a time."""
    account = server_account(secret)
    topics = Topics("demo")
    client = BusClient(
        BusSettings("demo", "bench-bare", account.username, account.password, host, port),
        "hall/demo/bench/availability",
        lambda s: ServerAvailability(ts=datetime.now(ZONE), state=s, version="bench"),  # type: ignore[arg-type]
    )
    got = threading.Event()
    client.subscribe("hall/demo/bench/echo", lambda _t, _p: got.set())
    client.start()
    samples = []
    payload = ServerAvailability(ts=datetime.now(ZONE), state="online", version="x")
    for _ in range(n):
        got.clear()
        t0 = time.perf_counter()
        client.publish("hall/demo/bench/echo", payload)
        got.wait(5)
        samples.append(time.perf_counter() - t0)
    client.stop()
    del topics
    return samples


def ticket_roundtrip(host: str, port: int, secret: Path, n: int) -> list[float]:
    """kiosk-01 asks ticket.issue and waits for the gateway's reply, one at a time."""
    account = device_account(secret, "kiosk-01")
    kiosk = BusClient(
        BusSettings("demo", "kiosk-01", account.username, account.password, host, port),
        Topics("demo").device("kiosk-01", "availability"),
        lambda s: DeviceAvailability.of(datetime.now(ZONE), s, "kiosk"),
    )
    kiosk.enable_replies("kiosk-01")
    kiosk.start()
    groups = ["police", "social", "property", "business", "livelihood", "yijianshi"]
    samples = []
    for i in range(n):
        request = TicketIssue(
            ts=datetime.now(ZONE),
            request_id=Request.new_id(),
            group=groups[i % len(groups)],
            identity={"method": "id_card", "id_number": id_number(i)},  # type: ignore[arg-type]
        )
        t0 = time.perf_counter()
        reply = kiosk.request("ticket.issue", request)
        samples.append(time.perf_counter() - t0)
        if reply.status != "ok":
            raise RuntimeError(f"ticket.issue refused: {reply.error}")
    kiosk.stop()
    return samples


def main() -> None:
    """Start a broker and the server on loopback, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()
    with loopback_hall() as lb, TestClient(create_app(lb.settings, OffsetClock(OPEN))) as http:
        http.app.state.hall.gateway.client.wait_connected(5)  # type: ignore[attr-defined]
        bare = bare_roundtrip(lb.broker.host, lb.broker.port, lb.secret, args.n)
        issue = ticket_roundtrip(lb.broker.host, lb.broker.port, lb.secret, args.n)
    print(f"hallq bus round trips on loopback (Mosquitto, MQTT 5, QoS 1, SQLite), n={args.n}\n")
    print(line("bare broker publish→receive", bare))
    print(line("ticket.issue request→reply", issue))
    print(
        f"\nticket.issue p50 / bare p50 = {pct(issue, 50) / pct(bare, 50):.1f}×, "
        f"p99 / p99 = {pct(issue, 99) / pct(bare, 99):.1f}×"
    )


if __name__ == "__main__":
    main()
