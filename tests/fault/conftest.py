"""The fault suite's hall: the real Mosquitto (tests/bus), the real hall server as a `hallq serve` process,
the printer agent as a process on the TCP printer simulator (tests/printer), kiosks and window callers as bus
clients issuing requests in a loop (each retried under its request_id until answered), and a window display
that records every call it sees."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from broker.client import BusClient, BusTimeout
from broker.messages import DeviceAvailability, Reply, Request, TicketIssue, WindowAction
from firmware_config.devices import BUS_KIND
from kiosk.printer.decoder import decode
from kiosk.printer.simulator import PrinterSimulator
from tests.bus.fixtures import HallBroker
from tests.gateway.fixtures import Inbox
from tests.integration.helpers import id_number
from tests.printer.conftest import TOPICS, ZONE, Server, server, sim  # noqa: F401 - fixtures reused here
from tests.printer.test_restart import ROOT, AgentProcess, hall_dir

HALLQ = str(Path(sys.executable).parent / "hallq")
OPEN = "2026-11-23T09:00:00+08:00"  # a Monday morning: the hall is open (the server's clock starts here)
GROUPS = ("police", "social", "property", "business", "livelihood")  # served by w01 and w02
KIOSK = "kiosk-01"  # its printer is printer-kiosk-01
OTHER_KIOSK = "kiosk-02"
CALLERS = {"caller-w01": "w01", "caller-w02": "w02"}
DISPLAY = "display-w01"
ATTEMPT_S = 2.0  # a request not answered within this is sent again, same request_id
PACE_S = 0.05  # between two requests of one device: a hall's pace, and room for 2 cores


def now() -> datetime:
    return datetime.now(ZONE)


class HallServerProcess:
    """`hallq serve` on a copy of the migrated SQLite template, wired to the test broker."""

    def __init__(self, broker: HallBroker, folder: Path, template: Path, watch: Inbox) -> None:
        self.db = folder / "hall.db"
        shutil.copy(template, self.db)
        self.log = folder / "hallserver.log"
        self.watch = watch
        self.env = {
            **os.environ,
            "HALLQ_DATABASE_URL": f"sqlite:///{self.db}",
            "HALLQ_SECRET_DIR": str(broker.secret_dir),
            "HALLQ_BROKER_HOST": broker.host,
            "HALLQ_BROKER_PORT": str(broker.port),
            "HALLQ_CLOCK_START": OPEN,
            "HALLQ_LOG_LEVEL": "warning",
        }
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start and wait until the server says online on the bus (its gateway is subscribed by then)."""
        mark = len(self.watch.messages)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [HALLQ, "serve", "--port", str(self.port)], cwd=ROOT, env=self.env, stdout=out, stderr=out
            )
        topic = TOPICS.server_availability()
        wait_after(self.watch, mark, lambda t, p: t == topic and p is not None and p["state"] == "online", 60)

    def kill(self) -> None:
        """SIGKILL: no clean offline, no flush of anything in flight."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def tickets(self) -> Counter[str]:
        """Every ticket number in the database, with how many rows carry it."""
        with sqlite3.connect(self.db) as db:
            return Counter(number for (number,) in db.execute("SELECT number FROM ticket"))

    def stored_replies(self, action: str) -> dict[tuple[str, str], dict[str, Any]]:
        """The request log: (device, request_id) → the stored reply."""
        import json

        with sqlite3.connect(self.db) as db:
            rows = db.execute("SELECT device_id, request_id, reply FROM request_log WHERE action = ?", (action,))
            return {(d, r): json.loads(reply) for d, r, reply in rows}


def wait_after(
    inbox: Inbox, mark: int, predicate: Callable[[str, dict[str, Any] | None], bool], timeout: float
) -> None:
    """Wait for a message matching predicate among those received after the first `mark` ones."""
    with inbox.cond:
        found = inbox.cond.wait_for(lambda: any(predicate(t, p) for t, p in _decoded(inbox.messages[mark:])), timeout)
    assert found, f"no matching message within {timeout} s"


def _decoded(messages: list[tuple[str, bytes]]) -> Iterator[tuple[str, dict[str, Any] | None]]:
    import json

    for topic, raw in messages:
        yield topic, (json.loads(raw) if raw else None)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Outcome:
    """One request as the device saw it: sent until answered."""

    device: str
    action: str
    request_id: str
    reply: Reply
    attempts: int
    answered_at: float  # perf_counter, for the figures only


@dataclass
class Load:
    """Kiosks issuing tickets and callers calling them, each in its own thread, until stopped."""

    clients: dict[str, BusClient]
    outcomes: list[Outcome] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    cond: threading.Condition = field(default_factory=threading.Condition)
    threads: list[threading.Thread] = field(default_factory=list)
    gave_up: list[str] = field(default_factory=list)

    def ask(self, device: str, action: str, request: Request, deadline_s: float = 90.0) -> Reply | None:
        """Send until answered (same request_id every time); None only if the hall never answers."""
        client, attempts, give_up = self.clients[device], 0, time.monotonic() + deadline_s
        while time.monotonic() < give_up:
            attempts += 1
            try:
                reply = client.request(action, request, timeout_s=ATTEMPT_S, attempts=1)
            except BusTimeout:
                continue
            with self.cond:
                self.outcomes.append(Outcome(device, action, request.request_id, reply, attempts, time.perf_counter()))
                self.cond.notify_all()
            return reply
        self.gave_up.append(f"{device} {action} {request.request_id}")
        return None

    def kiosk(self, device: str, first_seed: int) -> None:
        seed = first_seed
        while not self.stopping.is_set():
            request = TicketIssue(
                ts=now(),
                request_id=Request.new_id(),
                device_id=device,  # ignored by contract v2 (the topic names the sender)
                group=GROUPS[seed % len(GROUPS)],
                identity={"method": "id_card", "id_number": id_number(seed)},
            )
            seed += 1
            if self.ask(device, "ticket.issue", request) is None:
                return
            self.stopping.wait(PACE_S)

    def caller(self, device: str, window: str) -> None:
        while not self.stopping.is_set():
            call = WindowAction(ts=now(), request_id=Request.new_id(), device_id=device, window_id=window)
            reply = self.ask(device, "window.call_next", call)
            if reply is None:
                return
            if reply.status == "ok" and reply.data and reply.data.get("ticket"):
                done = WindowAction(ts=now(), request_id=Request.new_id(), device_id=device, window_id=window)
                if self.ask(device, "window.no_show", done) is None:
                    return
            self.stopping.wait(PACE_S * 4)

    def start(self) -> None:
        plan: list[tuple[Callable[..., None], tuple[Any, ...]]] = [
            (self.kiosk, (KIOSK, 1)),
            (self.kiosk, (OTHER_KIOSK, 500)),
            *((self.caller, (device, window)) for device, window in CALLERS.items()),
        ]
        for target, args in plan:
            thread = threading.Thread(target=target, args=args, name=f"load-{args[0]}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def wait_answers(self, n: int, timeout: float = 60.0) -> None:
        """Wait until n more requests than now were answered."""
        with self.cond:
            target = len(self.outcomes) + n
            assert self.cond.wait_for(lambda: len(self.outcomes) >= target, timeout), (
                f"only {len(self.outcomes)} of {target} requests answered"
            )

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=120)

    def of(self, action: str) -> list[Outcome]:
        with self.cond:
            return [o for o in self.outcomes if o.action == action]


@dataclass
class FaultHall:
    """Everything a fault test needs: the processes, the load, and what the display and printer saw."""

    broker: HallBroker
    server: HallServerProcess
    printer: AgentProcess
    sim: PrinterSimulator
    watch: Inbox  # the window display's bus: calls, recent calls, window states, server availability
    observer: Server  # a server-account listener (printer results and availability)
    load: Load

    def called_on_display(self) -> set[str]:
        """Every ticket number the display saw called: live calls, and the retained recent calls it resyncs
        from after a reconnection (the contract's promise for displays)."""
        seen: set[str] = set()
        for topic, payload in _decoded(list(self.watch.messages)):
            if payload is None:
                continue
            if topic == TOPICS.call():
                seen.add(payload["ticket"])
            elif topic == TOPICS.calls_recent():
                seen.update(c["ticket"] for c in payload["calls"])
        return seen

    def printed(self) -> Counter[str]:
        """Ticket numbers on paper (the big line), with how often each came out."""
        return Counter(
            line.text for data in self.sim.documents() for line in decode(data).text_lines if line.scale[0] == 4
        )

    def check(self) -> dict[str, Any]:
        """The invariants every fault must keep; returns the figures for the report."""
        issued = self.load.of("ticket.issue")
        assert self.load.gave_up == [], self.load.gave_up
        assert issued and all(o.reply.status == "ok" for o in issued), [
            o.reply.error for o in issued if o.reply.status != "ok"
        ]
        # one request, one ticket: every answered request has its own number, and it is in the database
        numbers = [o.reply.data["ticket"] for o in issued if o.reply.data]
        assert len(numbers) == len(issued) == len({(o.device, o.request_id) for o in issued})
        assert len(set(numbers)) == len(numbers), Counter(numbers).most_common(3)
        in_db = self.server.tickets()
        assert all(count == 1 for count in in_db.values()), in_db.most_common(3)
        assert set(in_db) == set(numbers)  # nothing lost, and no ticket that nobody was answered for
        stored = self.server.stored_replies("ticket.issue")
        assert {k: v["data"]["ticket"] for k, v in stored.items()} == {
            (o.device, o.request_id): o.reply.data["ticket"] for o in issued if o.reply.data
        }
        # every ticket a window called reached the display
        called = [
            o.reply.data["ticket"]["number"]
            for o in self.load.of("window.call_next")
            if o.reply.status == "ok" and o.reply.data and o.reply.data.get("ticket")
        ]
        assert called, "no window called anybody"
        assert set(called) <= self.called_on_display(), set(called) - self.called_on_display()
        # every print job at most once on paper, and only tickets of this kiosk's printer
        printed = self.printed()
        assert all(count == 1 for count in printed.values()), printed.most_common(3)
        mine = {o.reply.data["ticket"] for o in issued if o.device == KIOSK and o.reply.data}
        assert set(printed) <= mine
        return {
            "tickets": len(issued),
            "retries": sum(o.attempts - 1 for o in self.load.outcomes),
            "requests": len(self.load.outcomes),
            "calls": len(called),
            "printed": len(printed),
            "print jobs": sum(1 for o in issued if o.device == KIOSK and o.reply.data and o.reply.data["print_job_id"]),
        }


def report(name: str, figures: dict[str, Any]) -> None:
    """The figures of one fault run, on one line (shown with -s)."""
    print(f"\n[fault] {name}: " + ", ".join(f"{k} {v}" for k, v in figures.items()), flush=True)


def recovery(load: Load, since: float) -> float:
    """Seconds from `since` (perf_counter) to the first request answered after it (a figure, not asserted)."""
    after = [o.answered_at for o in load.outcomes if o.answered_at > since]
    return min(after) - since if after else float("nan")


def device_client(broker: HallBroker, device: str) -> BusClient:
    """A device's bus client with its own login and a persistent session."""
    kind = BUS_KIND[broker.devices.get(device).type]
    return BusClient(
        broker.bus_settings(device),
        TOPICS.device(device, "availability"),
        lambda s: DeviceAvailability(ts=now(), state=s, kind=kind, version="test"),
    )


@pytest.fixture
def fault_hall(
    broker: HallBroker,
    server: Server,  # noqa: F811 - the reused fixture
    sim: PrinterSimulator,  # noqa: F811 - the reused fixture
    sqlite_template: Path,
    tmp_path: Path,
) -> Iterator[FaultHall]:
    """The hall running as processes, with a display listening; the load is made but not started."""
    display = device_client(broker, DISPLAY)
    watch = Inbox()
    for topic in (TOPICS.server_availability(), TOPICS.call(), TOPICS.calls_recent(), TOPICS.window_states()):
        display.subscribe(topic, watch.add)
    display.start()
    assert display.wait_connected(5)
    hall_server = HallServerProcess(broker, tmp_path, sqlite_template, watch)
    printer = AgentProcess(broker, hall_dir(tmp_path, sim.port), tmp_path / "printer", tmp_path / "printer.log")
    clients: dict[str, BusClient] = {}
    try:
        hall_server.start()
        printer.start(server)
        for device in (KIOSK, OTHER_KIOSK, *CALLERS):
            client = device_client(broker, device)
            client.enable_replies(device)
            client.start()
            assert client.wait_connected(5)
            clients[device] = client
        load = Load(clients)
        yield FaultHall(broker, hall_server, printer, sim, watch, server, load)
        load.stop()
    finally:
        for client in clients.values():
            client.stop()
        printer.stop()
        hall_server.stop()
        display.stop()
