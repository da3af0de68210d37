"""Printer fixtures: a real TCP printer simulator, printer agents on the demo hall's real broker, and the
server's side of the bus (publishing jobs as the hall server, collecting results and status)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from broker.client import BusClient, BusSettings
from broker.messages import PrintJob, ServerAvailability
from broker.topics import Topics
from firmware_config.devices import PrinterProfile, SimulatorConnection
from kiosk.printer.agent import PrinterAgent
from kiosk.printer.simulator import PrinterSimulator
from tests.bus.fixtures import HallBroker

ZONE = ZoneInfo("Asia/Shanghai")
TOPICS = Topics("demo")
DEVICE = "printer-kiosk-01"


@dataclass
class Inbox:
    """Messages received by the test server, with a way to wait for one."""

    messages: list[tuple[str, dict[str, Any] | None]] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def add(self, topic: str, payload: bytes) -> None:
        with self.cond:
            self.messages.append((topic, json.loads(payload) if payload else None))
            self.cond.notify_all()

    def on(self, topic: str) -> list[dict[str, Any]]:
        """Every payload on one topic so far."""
        with self.cond:
            return [p for t, p in self.messages if t == topic and p is not None]

    def wait_for(self, predicate: Callable[[str, dict[str, Any]], bool], timeout: float = 5.0) -> dict[str, Any]:
        """The first payload matching predicate(topic, payload)."""

        def find() -> dict[str, Any] | None:
            return next((p for t, p in self.messages if p is not None and predicate(t, p)), None)

        with self.cond:
            assert self.cond.wait_for(lambda: find() is not None, timeout), (
                f"no matching message within {timeout}s; got {self.messages[-10:]}"
            )
            found = find()
            assert found is not None
            return found

    def results(self, device: str = DEVICE) -> dict[str, list[dict[str, Any]]]:
        """job_result events of a device by job id."""
        out: dict[str, list[dict[str, Any]]] = {}
        for event in self.on(TOPICS.device(device, "event")):
            if event.get("type") == "job_result":
                out.setdefault(event["job_id"], []).append(event)
        return out

    def result(self, job_id: str, device: str = DEVICE, timeout: float = 5.0) -> dict[str, Any]:
        """Wait for the job_result of one job."""
        topic = TOPICS.device(device, "event")
        return self.wait_for(lambda t, p: t == topic and p.get("job_id") == job_id, timeout)


@dataclass
class Server:
    """The hall server's side: publishes jobs with the server account, sees events and status."""

    client: BusClient
    inbox: Inbox

    def job(
        self,
        kind: str,
        document: dict[str, Any],
        device: str = DEVICE,
        job_id: str | None = None,
        ttl: timedelta = timedelta(minutes=5),
        ts: datetime | None = None,
        wait: bool = True,
    ) -> str:
        """Publish a print job as the gateway does (expires_at and MQTT message expiry) and wait for PUBACK
        (wait=False: the broker may be away, the client queues it)."""
        now = ts or datetime.now(ZONE)
        job = PrintJob(ts=now, job_id=job_id or uuid.uuid4().hex, kind=kind, document=document, expires_at=now + ttl)
        info = self.client.publish(TOPICS.device(device, "job"), job, expiry_s=300)  # as long as the gateway
        if wait:
            info.wait_for_publish(timeout=5)
        return job.job_id

    def status(self, device: str = DEVICE) -> list[dict[str, Any]]:
        """Status payloads of a device so far."""
        return self.inbox.on(TOPICS.device(device, "status"))


@pytest.fixture
def server(broker: HallBroker) -> Iterator[Server]:
    """A client logged in with the hall server's account, listening to every device event and status."""
    client = BusClient(
        broker.bus_settings(f"hallserver-test-{uuid.uuid4().hex[:6]}", broker.server_account(), session_expiry_s=0),
        TOPICS.server_availability(),
        lambda s: ServerAvailability(ts=datetime.now(ZONE), state=s, version="test"),
    )
    inbox = Inbox()
    client.subscribe(TOPICS.devices("event"), inbox.add)
    client.subscribe(TOPICS.devices("status"), inbox.add)
    client.subscribe(TOPICS.devices("availability"), inbox.add)
    client.start()
    assert client.wait_connected(5)
    yield Server(client, inbox)
    client.stop()


@pytest.fixture
def sim() -> Iterator[PrinterSimulator]:
    """A TCP printer simulator on a free port."""
    with PrinterSimulator(port=0) as running:
        yield running


def printer_profile(broker: HallBroker, device: str, port: int, width: int = 80, poll_s: int = 10) -> PrinterProfile:
    """The demo hall's profile of a printer, pointed at a simulator on `port`."""
    profile = broker.devices.get(device)
    assert isinstance(profile, PrinterProfile)
    return profile.model_copy(
        update={
            "paper_width_mm": width,
            "connection": SimulatorConnection(type="simulator", port=port),
            "status_poll_s": poll_s,
        }
    )


def bus_settings(broker: HallBroker, device: str) -> BusSettings:
    """A device's broker login on the test broker."""
    return broker.bus_settings(device)


def wait_online(server: Server, device: str, since: datetime) -> None:
    """Wait until the device says online (its job subscription is in place by then)."""
    topic = TOPICS.device(device, "availability")
    server.inbox.wait_for(
        lambda t, p: t == topic and p["state"] == "online" and datetime.fromisoformat(p["ts"]) >= since, 10
    )


@pytest.fixture
def make_agent(
    broker: HallBroker, sim: PrinterSimulator, server: Server, tmp_path: Path
) -> Iterator[Callable[..., PrinterAgent]]:
    """Factory: make_agent(width=80, poll_s=10, device=DEVICE, **agent_options) → a started agent printing
    to `sim` (agent_options go to PrinterAgent, e.g. limiter=)."""
    agents: list[PrinterAgent] = []

    def make(
        width: int = 80, poll_s: int = 10, device: str = DEVICE, state: str = "state", **options: Any
    ) -> PrinterAgent:
        since = datetime.now(ZONE).replace(microsecond=0)
        agent = PrinterAgent(
            printer_profile(broker, device, sim.port, width, poll_s),
            bus_settings(broker, device),
            tmp_path / state,
            status_timeout_s=0.5,
            **options,
        )
        agent.start()
        agents.append(agent)
        assert agent.bus.wait_connected(5), "the agent could not connect to the broker"
        assert agent.ready.wait(5), "the agent never read the printer status"
        wait_online(server, device, since)
        return agent

    yield make
    for agent in agents:
        agent.stop()
