"""Display and voice latency on loopback (not a test: prints numbers): a window's caller sends
window.call_next over the real bus to the hall server running in its own process → the hall display (a
separate bus client) has the call; → the display model snapshot includes it; and call received → its audio
ready (rendered ahead vs rendered on demand). The bare broker round trip of the same run is printed beside.

    python -m bench.display_latency [--n 300]
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.bus_roundtrip import bare_roundtrip
from bench.live_hall import LiveHall, live_hall, morning
from bench.load_kiosks import device_client
from bench.seed import seed_waiting
from bench.ticket_core import pct
from broker.client import BusSettings
from broker.messages import Request, WindowAction
from firmware_config.credentials import device_account
from firmware_config.devices import HallDisplayProfile
from hallcore.announce import call_speech
from hallcore.clock import OffsetClock
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


def calls(hall: LiveHall, display: DisplayService, n: int) -> tuple[list[float], list[float]]:
    """caller-w16 (综合咨询) calls over the bus → the display received the call / has it in its state; each
    called ticket is then marked 过号 so the window is free for the next call."""
    caller = device_client(hall, "caller-w16")
    caller.enable_replies("caller-w16")
    caller.start()
    caller.wait_connected(10)
    received, modelled = [], []
    try:
        for _ in range(n):
            before = len(display.received)
            t0 = time.monotonic()
            reply = caller.request("window.call_next", _action("w16"), timeout_s=5, attempts=1)
            number = (reply.data or {}).get("ticket", {}).get("number") if reply.status == "ok" else None
            if number is None:
                raise RuntimeError(f"call_next found nobody to call: {reply.error}")
            while len(display.received) == before:
                time.sleep(0.0002)
            received.append(max(display.received.values()) - t0)
            while not any(c.ticket == number for c in display.model.snapshot().recent[:1]):
                time.sleep(0.0002)
            modelled.append(time.monotonic() - t0)
            caller.request("window.no_show", _action("w16"), timeout_s=5, attempts=1)
    finally:
        caller.stop()
    return received, modelled


def _action(window: str) -> WindowAction:
    return WindowAction(ts=datetime.now(ZONE), request_id=Request.new_id(), window_id=window)


def cold_renders(renderer: SpeechRenderer, n: int) -> list[float]:
    """Audio ready for a call nobody predicted: espeak-ng runs while the citizen waits."""
    samples = []
    for i in range(n):
        t0 = time.perf_counter()
        renderer.render(call_speech(f"Z{i % 1000:03d}", 1 + i // 1000))
        samples.append(time.perf_counter() - t0)
    return samples


def main() -> None:
    """Start a broker, the server (its own process) and a hall display on loopback; measure; print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    with live_hall("sqlite", 0) as hall:
        bare = bare_roundtrip(hall.host, hall.port, hall.secret_dir, max(args.n, 200))
        seed_waiting(hall, args.n + 5, window="w16")
        day = hall.new_day()
        hall.command("drain")
        profile = hall.devices.get("hall-display-1")
        assert isinstance(profile, HallDisplayProfile)
        account = device_account(hall.secret_dir, profile.id)
        bus = BusSettings("demo", profile.id, account.username, account.password, hall.host, hall.port)
        renderer = SpeechRenderer(hall.root / "voice")
        announcer = Announcer(renderer, SilentPlayer("bench"), repeat=2)
        clock = OffsetClock(morning(day))
        display = DisplayService(profile, bus, HallInfo.from_profile(hall.hall, hall.devices), announcer, clock.now)
        display.start(5)
        received, modelled = calls(hall, display, args.n)
        announcer.wait_idle(60)
        ready = [a.ready_s for a in announcer.history if a.ready_s is not None]
        ahead = sum(a.prerendered for a in announcer.history)
        display.stop()
        cold = cold_renders(SpeechRenderer(hall.root / "cold"), min(args.n, 200))
    print(f"hallq display and voice latency on loopback (Mosquitto, MQTT 5, QoS 1, SQLite), n={args.n}")
    print("server in its own process; the caller and the display are separate bus clients\n")
    print(line("bare broker publish→receive", bare))
    print(line("call_next (bus) → display received", received))
    print(line("call_next (bus) → display state updated", modelled))
    print(line("call received → audio ready", ready))
    print(line("audio rendered on demand (espeak-ng)", cold))
    print(f"\ncall → display p99 = {pct(received, 99) / pct(bare, 99):.1f}× the bare broker's p99")
    print(f"{ahead} of {len(ready)} calls were rendered ahead (likely next calls)")


if __name__ == "__main__":
    main()
