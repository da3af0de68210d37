"""16 kiosks × 500 tickets at full speed over the real broker, with real-name limits active, on SQLite and
PostgreSQL: the gateway answers in batches (group commit), and still no number is issued twice, no person
passes a limit, and every request is answered exactly once."""

from __future__ import annotations

import json
import random
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select

from broker.client import BusClient
from broker.messages import DeviceAvailability, Request
from broker.mosquitto import free_port
from firmware_config.devices import load_devices
from firmware_config.hall import load_hall_profile
from hallcore.clock import ManualClock
from hallserver.app import create_app
from hallserver.gateway.gateway import Gateway
from hallserver.models import RequestLog, Ticket
from tests.bus.fixtures import DEMO_HALL, HallBroker
from tests.conftest import hall_settings
from tests.integration.helpers import id_number

KIOSKS = 16
PER_KIOSK = 500
IN_FLIGHT = 50  # per kiosk, as a device keeps it (the broker queues at most 1,000 messages for the server)
PEOPLE = 400  # ~13 requests per person across 6 real-name groups: the limits are hit all the time
GROUPS = ("police", "social", "property", "business", "livelihood", "yijianshi")
REFUSALS = {"already_waiting", "limit_reached"}


def storm_hall(target: Path) -> Path:
    """The demo hall with 16 more kiosks (kiosk-s01 …)."""
    shutil.copytree(DEMO_HALL, target)
    devices_file = target / "devices.yaml"
    raw = yaml.safe_load(devices_file.read_text(encoding="utf-8"))
    printer = next(d["id"] for d in raw["devices"] if d.get("type") == "printer")
    raw["devices"] += [
        {"id": f"kiosk-s{k:02d}", "type": "kiosk", "name": f"测试自助机{k:02d}", "location": "测试", "printer": printer}
        for k in range(1, KIOSKS + 1)
    ]
    devices_file.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


@dataclass
class Kiosk:
    """One kiosk sending its requests with a bounded number in flight, counting every reply it gets."""

    client: BusClient
    topic: str
    payloads: list[tuple[str, bytes]]
    slots: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(IN_FLIGHT))
    replies: list[dict] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def on_reply(self, _topic: str, payload: bytes) -> None:
        self.replies.append(json.loads(payload))
        self.slots.release()
        if len(self.replies) >= len(self.payloads):
            self.done.set()

    def run(self) -> None:
        for _rid, payload in self.payloads:
            assert self.slots.acquire(timeout=60), "no reply for a minute"
            self.client.mqtt.publish(self.topic, payload, qos=1)


@pytest.fixture
def storm(database_url: str, tmp_path: Path, clock: ManualClock) -> Iterator[tuple[TestClient, HallBroker, str]]:
    folder = Path(tempfile.mkdtemp(prefix="hallq-storm-"))
    folder.chmod(0o711)  # the broker runs as the mosquitto user
    try:
        hall_dir = storm_hall(tmp_path / "hall")
        hall = load_hall_profile(hall_dir / "hall.yaml")
        devices = load_devices(hall_dir / "devices.yaml", hall)
        with HallBroker(hall, devices, tmp_path / "secret", out_dir=folder, port=free_port()) as broker:
            settings = hall_settings(database_url, tmp_path, broker, hall_dir=hall_dir)
            with TestClient(create_app(settings, clock)) as http:
                gateway: Gateway = http.app.state.hall.gateway  # type: ignore[attr-defined]
                assert gateway.client.wait_connected(10)
                gateway.drain()
                yield http, broker, database_url
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _payloads(k: int, rng: random.Random) -> list[tuple[str, bytes]]:
    out = []
    for _ in range(PER_KIOSK):
        rid = Request.new_id()
        body = {
            "ts": "2026-11-23T09:00:00+08:00",
            "request_id": rid,
            "group": rng.choice(GROUPS),
            "identity": {"id_number": id_number(rng.randrange(PEOPLE)), "method": "id_card"},
        }
        out.append((rid, json.dumps(body).encode()))
    return out


def test_sixteen_kiosks_at_full_speed_keep_numbers_limits_and_answers(
    storm: tuple[TestClient, HallBroker, str], clock: ManualClock
) -> None:
    http, broker, url = storm
    rng = random.Random(19)
    kiosks = []
    for k in range(1, KIOSKS + 1):
        device = f"kiosk-s{k:02d}"
        client = BusClient(
            broker.bus_settings(device),
            broker.topics.device(device, "availability"),
            lambda s: DeviceAvailability.of(clock.now(), s, "kiosk"),
        )
        kiosk = Kiosk(client, broker.topics.request(device, "ticket.issue"), _payloads(k, rng))
        client.subscribe(broker.topics.device(device, "reply"), kiosk.on_reply)
        client.start()
        assert client.wait_connected(10)
        kiosks.append(kiosk)
    senders = [threading.Thread(target=k.run) for k in kiosks]
    try:
        for t in senders:
            t.start()
        for t in senders:
            t.join(timeout=600)
        for kiosk in kiosks:
            assert kiosk.done.wait(120), f"{len(kiosk.replies)}/{PER_KIOSK} answered"
        http.app.state.hall.gateway.drain()  # type: ignore[attr-defined]
    finally:
        for kiosk in kiosks:
            kiosk.client.stop()

    # Every request answered exactly once, to the kiosk that sent it.
    for kiosk in kiosks:
        sent = Counter(rid for rid, _ in kiosk.payloads)
        answered = Counter(r["request_id"] for r in kiosk.replies)
        assert answered == sent
    replies = [r for kiosk in kiosks for r in kiosk.replies]
    codes = Counter(r["error"]["code"] for r in replies if r["status"] == "error")
    assert set(codes) <= REFUSALS, codes  # refused by the limits only: nothing unavailable, nothing invalid
    ok = [r["data"]["ticket"] for r in replies if r["status"] == "ok"]
    assert len(ok) == len(set(ok))  # no number twice
    assert codes["already_waiting"] and codes["limit_reached"]  # the limits were really exercised

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Ticket.number, Ticket.identity_hash, Ticket.group_code)).all()
            logged = conn.execute(select(func.count()).select_from(RequestLog)).scalar_one()
    finally:
        engine.dispose()
    assert sorted(n for n, _, _ in rows) == sorted(ok)  # every ticket answered, every answer a ticket
    assert logged == KIOSKS * PER_KIOSK  # every answer, refusals too, is in the request log
    per_person = Counter(h for _, h, _ in rows)
    assert max(per_person.values()) <= 5  # the demo hall's daily cap
    assert max(Counter((h, g) for _, h, g in rows).values()) == 1  # one waiting ticket per group (none called)
    for prefix in {n[0] for n, _, _ in rows}:
        seqs = sorted(int(n[1:]) for n, _, _ in rows if n[0] == prefix)
        assert seqs == list(range(1, len(seqs) + 1))  # gap-free: refused requests gave their number back
