"""Display and voice latency on loopback (not a test: prints numbers): a call made through the server's REST
API → the hall display's bus client has it; → the display model snapshot includes it; and call received →
its audio ready (rendered ahead vs rendered on demand).

    python -m bench.display_latency [--n 300]
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from bench.loopback import loopback_hall
from bench.ticket_core import pct
from broker.client import BusSettings
from firmware_config.credentials import device_account
from firmware_config.devices import HallDisplayProfile
from hallcore.announce import call_speech
from hallcore.clock import OffsetClock
from hallserver.app import create_app
from kiosk.display.hallinfo import HallInfo
from kiosk.display.service import DisplayService
from kiosk.voice.announcer import Announcer
from kiosk.voice.player import SilentPlayer
from kiosk.voice.tts import SpeechRenderer

DEMO = Path(__file__).resolve().parents[1] / "firmware_config" / "halls" / "demo"
ZONE = ZoneInfo("Asia/Shanghai")
OPEN = datetime(2026, 11, 23, 9, 0, tzinfo=ZONE)


def line(name: str, samples: list[float]) -> str:
    """One printed line of percentiles (samples in seconds)."""
    return (
        f"{name:<40} n={len(samples):5d}  p50={pct(samples, 50):7.2f} ms  p95={pct(samples, 95):7.2f} ms  "
        f"p99={pct(samples, 99):7.2f} ms"
    )


def calls(http: TestClient, display: DisplayService, n: int) -> tuple[list[float], list[float]]:
    """REST call-next at 16号窗口 (综合咨询) → the display received the call / has it in its state."""
    received, modelled = [], []
    for _ in range(n):
        http.post("/api/v1/tickets", json={"group": "consult"}).raise_for_status()
        time.sleep(0.1)  # tickets wait minutes in a hall; here 0.1 s, enough for the queue update to arrive
        before = len(display.received)
        t0 = time.monotonic()
        number = http.post("/api/v1/windows/w16/call-next").json()["ticket"]["number"]
        while len(display.received) == before:
            time.sleep(0.0002)
        received.append(max(display.received.values()) - t0)
        while not any(c.ticket == number for c in display.model.snapshot().recent[:1]):
            time.sleep(0.0002)
        modelled.append(time.monotonic() - t0)
        http.post("/api/v1/windows/w16/start")
        http.post("/api/v1/windows/w16/finish", json={"outcome": "咨询"})
    return received, modelled


def cold_renders(renderer: SpeechRenderer, n: int) -> list[float]:
    """Audio ready for a call nobody predicted: espeak-ng runs while the citizen waits."""
    samples = []
    for i in range(n):
        t0 = time.perf_counter()
        renderer.render(call_speech(f"Z{i % 1000:03d}", 1 + i // 1000))
        samples.append(time.perf_counter() - t0)
    return samples


def main() -> None:
    """Start a broker, the server and a hall display on loopback; measure; print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    with loopback_hall() as lb, TestClient(create_app(lb.settings, OffsetClock(OPEN))) as http:
        from tests.conftest import login

        http.headers.update(login(http, "m01"))
        profile = lb.devices.get("hall-display-1")
        assert isinstance(profile, HallDisplayProfile)
        account = device_account(lb.secret, profile.id)
        bus = BusSettings("demo", profile.id, account.username, account.password, lb.broker.host, lb.broker.port)
        renderer = SpeechRenderer(lb.root / "voice")
        announcer = Announcer(renderer, SilentPlayer("bench"), repeat=2)
        display = DisplayService(
            profile, bus, HallInfo.from_profile(lb.hall, lb.devices), announcer, OffsetClock(OPEN).now
        )
        display.start(5)
        received, modelled = calls(http, display, args.n)
        announcer.wait_idle(60)
        ready = [a.ready_s for a in announcer.history if a.ready_s is not None]
        ahead = sum(a.prerendered for a in announcer.history)
        display.stop()
        cold = cold_renders(SpeechRenderer(lb.root / "cold"), min(args.n, 200))
    print(f"hallq display and voice latency on loopback (Mosquitto, MQTT 5, QoS 1, SQLite), n={args.n}\n")
    print(line("call-next (REST) → display received", received))
    print(line("call-next (REST) → display state updated", modelled))
    print(line("call received → audio ready", ready))
    print(line("audio rendered on demand (espeak-ng)", cold))
    print(f"\n{ahead} of {len(ready)} calls were rendered ahead (likely next calls)")


if __name__ == "__main__":
    main()
