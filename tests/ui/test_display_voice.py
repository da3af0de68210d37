"""Which calls a display reads aloud: its own (window display) or all (hall display), each once, and not the
ones the broker kept for it while it was away — judged by age only while catching up, so a board with a
wrong clock still reads live calls."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from broker.client import BusSettings
from broker.messages import Call
from firmware_config.devices import HallDisplayProfile, WindowDisplayProfile
from kiosk.display.hallinfo import HallInfo
from kiosk.display.service import DisplayService

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
BUS = BusSettings("demo", "x", "x", "x", "127.0.0.1", 1)


class Voice:
    def __init__(self) -> None:
        self.read: list[str] = []

    def announce(self, text: str, key: str | None = None) -> None:
        self.read.append(text)

    def prepare(self, texts: object) -> None:
        pass


def service(profile: WindowDisplayProfile | HallDisplayProfile) -> tuple[DisplayService, Voice]:
    voice = Voice()
    display = DisplayService(profile, BUS, HallInfo(), voice, clock=lambda: NOW)  # type: ignore[arg-type]
    display._connected_at = time.monotonic() - 60  # connected a minute ago: everything now is live
    return display, voice


def call(call_id: str, window: str, age: timedelta = timedelta(0)) -> bytes:
    return Call(
        ts=NOW - age, call_id=call_id, ticket="A012", window_id=window, window_name="3号窗口",
        text="请A012号到3号窗口办理", speech=f"请A零幺二号到{window}", recall=False,
    ).to_json()  # fmt: skip


def test_a_window_display_reads_only_its_own_calls() -> None:
    profile = WindowDisplayProfile(type="window_display", id="display-w03", name="3号窗口屏", window="w03", voice=True)
    display, voice = service(profile)
    display._on_message("hall/demo/call", call("1", "w05"))
    display._on_message("hall/demo/call", call("2", "w03"))
    assert voice.read == ["请A零幺二号到w03"]
    assert set(display.received) == {"1", "2"}  # both shown in its state, one read


def test_queued_calls_are_not_read_after_a_reconnection_but_live_ones_always_are() -> None:
    profile = HallDisplayProfile(type="hall_display", id="hall-display-1", name="大厅屏")
    display, voice = service(profile)
    display._on_message("hall/demo/call", call("1", "w01", age=timedelta(hours=1)))  # clock off: still live
    display._connected_at = time.monotonic()  # just reconnected: the broker hands over what it kept
    display._on_message("hall/demo/call", call("2", "w02", age=timedelta(minutes=30)))
    display._on_message("hall/demo/call", call("3", "w03", age=timedelta(seconds=20)))
    assert voice.read == ["请A零幺二号到w01", "请A零幺二号到w03"]
    assert [c.call_id for c in display.model.snapshot().recent] == ["3", "2", "1"]


def test_voice_off_in_the_profile_reads_nothing() -> None:
    profile = HallDisplayProfile(type="hall_display", id="hall-display-1", name="大厅屏", voice=False)
    display, voice = service(profile)
    display._on_message("hall/demo/call", call("1", "w01"))
    assert voice.read == [] and "1" in display.received
