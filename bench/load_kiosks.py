"""Bench kiosks on the real bus: device logins, pre-built ticket.issue requests, open-loop sending."""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections import Counter
from datetime import datetime
from typing import Any

from bench.live_hall import ZONE, LiveHall
from bench.load_stats import TIMEOUT_S, Phase, Stats, percentile
from bench.ticket_core import id_number
from broker.client import BusClient, BusSettings
from broker.messages import DeviceAvailability, Request
from broker.topics import Topics
from firmware_config.credentials import device_account
from firmware_config.devices import BUS_KIND

# Groups of the demo hall and their share of kiosk tickets (anonymous consultation needs no ID card).
GROUP_MIX = {
    "police": 0.22,
    "social": 0.24,
    "property": 0.10,
    "business": 0.08,
    "livelihood": 0.07,
    "yijianshi": 0.04,
    "consult": 0.20,
    "assist": 0.03,
    "complaint": 0.02,
}
ANONYMOUS = {"consult", "assist", "complaint"}

TOPICS = Topics("demo")


def device_client(hall: LiveHall, device_id: str) -> BusClient:
    """A bus client logged in as one of the hall's devices."""
    account = device_account(hall.secret_dir, device_id)
    kind = hall.devices.get(device_id).type
    bus_kind = BUS_KIND.get(kind, kind)
    return BusClient(
        BusSettings("demo", device_id, account.username, account.password, hall.host, hall.port),
        TOPICS.device(device_id, "availability"),
        lambda s: DeviceAvailability.of(datetime.now(ZONE), s, bus_kind),
    )


class KioskPool:
    """N kiosk connections that publish pre-built ticket.issue requests and time every reply."""

    def __init__(self, hall: LiveHall, n: int) -> None:
        self.ids = [f"kiosk-b{k:02d}" for k in range(1, n + 1)]
        self.clients = [device_client(hall, d) for d in self.ids]
        self.topics = [TOPICS.request(d, "ticket.issue") for d in self.ids]  # v2: each its own topic
        self.answers: dict[str, tuple[float, str, str | None]] = {}  # request id → (time, status, code)
        for device_id, client in zip(self.ids, self.clients, strict=True):
            client.subscribe(TOPICS.device(device_id, "reply"), self._on_reply)
        for client in self.clients:
            client.start()
            if not client.wait_connected(10):
                raise RuntimeError("a bench kiosk could not connect to the broker")
        self.seed = 0

    def _on_reply(self, _topic: str, payload: bytes) -> None:
        at = time.perf_counter()
        body = json.loads(payload)
        error = body.get("error") or {}
        self.answers[body["request_id"]] = (at, body.get("status", "?"), error.get("code"))

    def requests(self, n: int, green_share: float = 0.0) -> list[tuple[int, str, bytes]]:
        """n ticket.issue payloads (kiosk index, request id, JSON), groups by GROUP_MIX, unique ID numbers."""
        rng = random.Random(self.seed)
        groups, weights = list(GROUP_MIX), list(GROUP_MIX.values())
        out = []
        for i in range(n):
            self.seed += 1
            k = i % len(self.ids)
            group = rng.choices(groups, weights)[0]
            body: dict[str, Any] = {
                "ts": datetime.now(ZONE).isoformat(),
                "request_id": Request.new_id(),
                "group": group,
            }
            if group not in ANONYMOUS:
                body["identity"] = {"id_number": id_number(self.seed), "method": "id_card"}
            if rng.random() < green_share:
                body["priority"], body["priority_reason"] = "green", "老年人"
            out.append((k, body["request_id"], json.dumps(body).encode()))
        return out

    def open_loop(self, rate: float, seconds: float, green_share: float = 0.0) -> Phase:
        """Send rate × seconds requests on a fixed schedule; measure each answer from its scheduled instant."""
        batch = self.requests(int(rate * seconds), green_share)
        load1 = os.getloadavg()[0]
        lags = []
        start = time.perf_counter() + 0.2
        for i, (k, _rid, payload) in enumerate(batch):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self.clients[k].mqtt.publish(self.topics[k], payload, qos=1)
            lags.append(time.perf_counter() - due)
        last_due = start + (len(batch) - 1) / rate
        self._await([rid for _, rid, _ in batch], last_due + TIMEOUT_S)
        phase = self._phase(rate, seconds, batch, start, lags)
        phase.load1 = load1
        return phase

    def _await(self, ids: list[str], deadline: float) -> None:
        while time.perf_counter() < deadline and any(r not in self.answers for r in ids):
            time.sleep(0.02)

    def _phase(self, rate: float, seconds: float, batch: list, start: float, lags: list[float]) -> Phase:
        latencies, refused, last = [], Counter(), start
        ok = timeouts = 0
        for i, (_k, rid, _p) in enumerate(batch):
            answer = self.answers.pop(rid, None)
            due = start + i / rate
            if answer is None or answer[0] - due > TIMEOUT_S:
                latencies.append(math.inf)
                timeouts += 1
                continue
            latencies.append(answer[0] - due)
            last = max(last, answer[0])
            if answer[1] == "ok":
                ok += 1
            else:
                refused[answer[2] or answer[1]] += 1
        achieved = (ok + sum(refused.values())) / max(last - start, 1e-9)
        return Phase(
            rate,
            seconds,
            len(batch),
            ok,
            dict(refused),
            timeouts,
            Stats.of(latencies),
            achieved,
            percentile(lags, 99) * 1000,
        )

    def settle(self, hall: LiveHall, limit: float = 120.0) -> None:
        """Let a server that fell behind finish its backlog before the next phase (drops late answers)."""
        hall.command("drain", timeout=limit)
        time.sleep(0.2)
        self.answers.clear()

    def stop(self) -> None:
        """Disconnect every kiosk."""
        for client in self.clients:
            client.stop()
