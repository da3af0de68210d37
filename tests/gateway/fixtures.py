"""A whole bus for gateway tests: real Mosquitto with the demo hall's generated ACL, the real app with
its gateway on a manual clock, and device clients logging in with their own credentials."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from broker.client import BusClient
from broker.messages import DeviceAvailability
from broker.topics import Topics
from firmware_config.devices import BUS_KIND, DeviceSet
from firmware_config.hall import HallProfile
from hallcore.clock import ManualClock
from hallserver.app import create_app
from hallserver.gateway.gateway import Gateway
from tests.bus.fixtures import HallBroker
from tests.conftest import fresh_sqlite, hall_settings, login

HALL = "demo"


@dataclass
class Inbox:
    """Messages a test client received, with a way to wait for one."""

    messages: list[tuple[str, bytes]] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def add(self, topic: str, payload: bytes) -> None:
        with self.cond:
            self.messages.append((topic, payload))
            self.cond.notify_all()

    def wait_for(self, predicate: Callable[[str, dict | None], bool], timeout: float = 5.0) -> dict | None:
        """The first (decoded) payload matching predicate(topic, payload), waiting up to timeout."""

        def find() -> tuple[bool, dict | None]:
            for topic, raw in self.messages:
                decoded = json.loads(raw) if raw else None
                if predicate(topic, decoded):
                    return True, decoded
            return False, None

        with self.cond:
            ok = self.cond.wait_for(lambda: find()[0], timeout)
            assert ok, f"no matching message within {timeout}s; got topics {[t for t, _ in self.messages][-20:]}"
            return find()[1]

    def on(self, topic: str) -> list[dict | None]:
        """Every payload received on one topic so far."""
        with self.cond:
            return [json.loads(raw) if raw else None for t, raw in self.messages if t == topic]


@dataclass
class Bus:
    """The running hall: broker, app (with gateway), clock, and helpers to make device clients."""

    broker: HallBroker
    secret_dir: Path
    hall: HallProfile
    devices: DeviceSet
    clock: ManualClock
    http: TestClient
    topics: Topics = field(default_factory=lambda: Topics(HALL))
    clients: list[BusClient] = field(default_factory=list)

    @property
    def gateway(self) -> Gateway:
        gateway: Gateway = self.http.app.state.hall.gateway  # type: ignore[attr-defined]
        return gateway

    def device(self, device_id: str, *subscriptions: str, replies: bool = True) -> tuple[BusClient, Inbox]:
        """A connected client logged in as a device of the demo hall, subscribed to the given filters."""
        profile = self.devices.get(device_id)
        client = BusClient(
            self.broker.bus_settings(device_id),
            self.topics.device(device_id, "availability"),
            lambda s: DeviceAvailability.of(self.clock.now(), s, BUS_KIND[profile.type]),
        )
        inbox = Inbox()
        for topic_filter in subscriptions:
            client.subscribe(topic_filter, inbox.add)
        if replies:
            client.enable_replies(device_id)
        client.start()
        assert client.wait_connected(5), f"{device_id} could not connect"
        self.clients.append(client)
        self.wait_online(device_id)
        return client, inbox

    def wait_online(self, device_id: str, timeout: float = 30) -> None:
        """Until the gateway has heard this device's birth: actions check a printer's availability."""
        seen, deadline = self.gateway.seen.get(device_id), time.monotonic() + timeout
        while seen is not None and not seen.online:
            assert time.monotonic() < deadline, f"the server never saw {device_id} online"
            time.sleep(0.01)


@pytest.fixture
def bus(broker: HallBroker, tmp_path: Path, sqlite_template: Path, clock: ManualClock) -> Iterator[Bus]:
    """The demo hall's server, with its gateway, on a real broker and a real SQLite database."""
    settings = hall_settings(fresh_sqlite(sqlite_template, tmp_path), tmp_path, broker)
    with TestClient(create_app(settings, clock)) as http:
        http.headers.update(login(http, "m01"))
        state = Bus(broker, broker.secret_dir, broker.hall, broker.devices, clock, http)
        assert state.gateway.client.wait_connected(5)
        state.gateway.drain()
        yield state
        for client in state.clients:
            client.stop()
