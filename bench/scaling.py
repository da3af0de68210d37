"""Scaling rows (not a test: reports numbers): call → display over the real bus, with the server in its own
process and the window display a separate bus client, as the queue, the hall and the load grow. Each row
has the bare broker round trip measured in the same hall, beside it and as a ratio.

Rows: 10 / 1,000 / 10,000 people waiting; 20 / 150 windows; 0 / 500 more subscribed displays; and calls
while kiosks issue tickets at 150/s in the background. The waiting tickets are written into the database
before the calls (as a hall that has been busy all morning), never issued through an empty day.

    python -m bench.scaling [--quick] [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import multiprocessing
import selectors
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench.bus_roundtrip import bare_roundtrip
from bench.live_hall import LiveHall, live_hall, postgres_server
from bench.load import call_to_display
from bench.load_kiosks import TOPICS, KioskPool
from bench.load_stats import P99_LIMIT_MS, Phase, Stats
from bench.seed import seed_waiting
from firmware_config.credentials import device_account


@dataclass
class Row:
    """One scaling row: what varied, the call figures and the bare broker beside them."""

    backend: str
    label: str
    call_reply: Stats
    call_display: Stats
    bare: Stats
    background: Phase | None = None

    @property
    def ratio(self) -> float:
        """call → display p99 over the bare broker's p99, measured in the same hall."""
        return self.call_display.p99 / self.bare.p99 if self.bare.p99 else float("nan")


def measure(hall: LiveHall, label: str, calls: int, bare_n: int, waiting: int) -> Row:
    """Bare broker, then `calls` call → display round trips on a new day with `waiting` people waiting."""
    bare = Stats.of(bare_roundtrip(hall.host, hall.port, hall.secret_dir, bare_n))
    seed_waiting(hall, max(waiting, calls + 5))
    hall.new_day()
    hall.command("drain")
    reply, shown = call_to_display(hall, calls)
    return Row(hall.backend, label, reply, shown, bare)


def with_background(hall: LiveHall, pool: KioskPool, calls: int, bare_n: int, rate: float) -> Row:
    """Calls while kiosks issue tickets at `rate`/s (open loop) on the same day."""
    bare = Stats.of(bare_roundtrip(hall.host, hall.port, hall.secret_dir, bare_n))
    seed_waiting(hall, 1000)
    hall.new_day()
    hall.command("drain")
    done: list[Phase] = []
    seconds = max(8.0, calls * 0.08)
    loader = threading.Thread(target=lambda: done.append(pool.open_loop(rate, seconds)), daemon=True)
    loader.start()
    reply, shown = call_to_display(hall, calls)
    loader.join(timeout=seconds + 30)
    pool.settle(hall)
    row = Row(hall.backend, f"1,000 waiting, tickets at {rate:.0f}/s in the background", reply, shown, bare)
    row.background = done[0] if done else None
    return row


def with_displays(hall: LiveHall, displays: int, per_process: int = 500) -> Callable[[], None]:
    """Connect `displays` extra hall displays that subscribe to every call, `per_process` to a process, each
    process one thread driving its paho clients on one epoll selector (as displays on their own machines
    would, they cost the shared cores only their reads, not a thread each); returns how to stop them."""
    ctx = multiprocessing.get_context("fork")
    stop = ctx.Event()
    procs = []
    for first in range(1, displays + 1, per_process):
        ready = ctx.Event()
        proc = ctx.Process(
            target=_hold_displays, args=(hall, first, min(per_process, displays - first + 1), ready, stop)
        )
        proc.start()
        if not ready.wait(120):
            raise RuntimeError("extra displays did not connect within 2 minutes")
        procs.append(proc)

    def stop_all() -> None:
        stop.set()
        for proc in procs:
            proc.join(timeout=30)

    return stop_all


def _hold_displays(hall: LiveHall, first: int, count: int, ready: Any, stop: Any) -> None:
    """Hall displays hd-b… logged in with their own accounts, subscribed to the calls, reading every one."""
    clients: dict[int, mqtt.Client] = {}
    subscribed: set[int] = set()
    selector = selectors.DefaultSelector()
    for k in range(first, first + count):
        device_id = f"hd-b{k:03d}"
        account = device_account(hall.secret_dir, device_id)
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=device_id, protocol=mqtt.MQTTv311)
        client.username_pw_set(account.username, account.password)
        client.on_connect = lambda c, _u, _f, _rc, _p: c.subscribe(TOPICS.call(), qos=1)
        client.on_subscribe = lambda c, _u, _m, _rc, _p: subscribed.add(id(c))
        client.connect(hall.host, hall.port, keepalive=60)
        sock = client.socket()
        assert sock is not None  # connect() opened it
        clients[sock.fileno()] = client
        selector.register(sock, selectors.EVENT_READ, client)
    while not stop.is_set():
        for client in clients.values():
            if client.want_write():
                client.loop_write()
        for key, _events in selector.select(timeout=0.2):
            key.data.loop_read()
        for client in clients.values():
            client.loop_misc()
        if len(subscribed) == count:
            ready.set()
    for client in clients.values():
        client.disconnect()
        client.loop_write()


class _Rows(list[Row]):
    """Rows, each printed as soon as it is measured (a long run that fails late still shows its figures)."""

    def append(self, row: Row) -> None:
        super().append(row)
        print_rows([row], header=False)


def run(backend: str, quick: bool, url: str | None = None, only: str | None = None) -> list[Row]:
    """Every row on one backend (or only the `waiting`, `windows` or `displays` rows)."""
    calls, bare_n = (40, 200) if quick else (200, 1000)
    rows = _Rows()
    if only in (None, "waiting"):
        _waiting_rows(backend, url, rows, calls, bare_n)
    if only in (None, "windows"):
        with live_hall(backend, 0, url, windows=150) as hall:
            rows.append(measure(hall, "1,000 waiting, 150 windows", calls, bare_n, 1000))
    if only in (None, "displays"):
        with live_hall(backend, 0, url, displays=500) as hall:
            stop = with_displays(hall, 500)
            try:
                rows.append(measure(hall, "1,000 waiting, 500 more displays subscribed", calls, bare_n, 1000))
            finally:
                stop()
    return rows


def _waiting_rows(backend: str, url: str | None, rows: list[Row], calls: int, bare_n: int) -> None:
    with live_hall(backend, 8, url) as hall:
        pool = KioskPool(hall, 8)
        try:
            for waiting in (10, 1000, 10_000):
                rows.append(measure(hall, f"{waiting:,} waiting, 20 windows", calls, bare_n, waiting))
            rows.append(with_background(hall, pool, calls, bare_n, 150.0))
        finally:
            pool.stop()


def print_rows(rows: list[Row], header: bool = True) -> None:
    """One line per row: call reply and call → display p50/p99, the bare broker, the ratio, pass/fail."""
    if header:
        print(f"call → display over the real bus (server in its own process); limit p99 ≤ {P99_LIMIT_MS:.0f} ms")
    for r in rows:
        verdict = "PASS" if r.call_display.p99 <= P99_LIMIT_MS and r.call_reply.p99 <= P99_LIMIT_MS else "fail"
        print(
            f"  {r.backend:<10} {r.label:<48} call_next p50={r.call_reply.p50:6.2f} p99={r.call_reply.p99:7.2f}  "
            f"→ display p50={r.call_display.p50:6.2f} p99={r.call_display.p99:7.2f} ms  "
            f"bare p50={r.bare.p50:5.2f} p99={r.bare.p99:5.2f} ms  display p99 = {r.ratio:5.1f}× bare  {verdict}",
            flush=True,
        )
        if r.background is not None:
            b = r.background
            print(
                f"  {'':<10} {'  background tickets':<48} {b.sent} sent, p99={b.latency.p99:.2f} ms, "
                f"timeouts={b.timeouts}, refused={b.refused}",
                flush=True,
            )


def main() -> None:
    """Run and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--only", choices=("waiting", "windows", "displays"))
    args = parser.parse_args()
    rows: list[Row] = []
    if args.backend in ("sqlite", "both"):
        rows += run("sqlite", args.quick, only=args.only)
    if args.backend in ("postgresql", "both"):
        with postgres_server() as url:
            rows += run("postgresql", args.quick, url, args.only)
    print_rows(rows)


if __name__ == "__main__":
    main()
