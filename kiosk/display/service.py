"""A display's connection to the hall: bus client, display model, and voice for calls. No Kivy here; the
screen registers `on_change` and renders snapshots on its own thread."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from broker.client import BusClient, BusSettings
from broker.messages import Call, DeviceAvailability, DeviceStatus
from broker.topics import Topics
from firmware_config.devices import HallDisplayProfile, WindowDisplayProfile
from kiosk.display.hallinfo import HallInfo
from kiosk.display.model import Change, DisplayModel
from kiosk.voice.ahead import likely_calls
from kiosk.voice.announcer import Announcer

log = logging.getLogger("hallq.display")
DisplayProfile = WindowDisplayProfile | HallDisplayProfile
STALE_CALL = timedelta(minutes=2)  # calls queued for us while we were away are shown, not read aloud
CATCH_UP_S = 3.0  # after a (re)connection the broker first delivers what it queued for us


class DisplayService:
    """Runs one display's bus side; `received` keeps when each call arrived (for latency figures)."""

    def __init__(
        self,
        profile: DisplayProfile,
        bus: BusSettings,
        info: HallInfo,
        announcer: Announcer | None = None,
        clock: Callable[[], datetime] | None = None,
        voice_problem: str | None = None,
    ) -> None:
        self.profile = profile
        self.info = info
        self.announcer = announcer
        self.voice_problem = voice_problem
        self.zone = ZoneInfo(bus.timezone)
        self.clock = clock or (lambda: datetime.now(self.zone))
        self.topics = Topics(bus.hall)
        self.window = profile.window if isinstance(profile, WindowDisplayProfile) else None
        rows = profile.recent_calls if isinstance(profile, HallDisplayProfile) else 5
        self.model = DisplayModel(self.topics, profile.id, recent_limit=max(rows, 10), window=self.window)
        self.bus = BusClient(bus, self.topics.device(profile.id, "availability"), self._availability)
        self.on_change: Callable[[Change], None] | None = None
        self.received: dict[str, float] = {}
        self._connected_at = 0.0  # monotonic time of the latest (re)connection

    def _availability(self, state: str) -> DeviceAvailability:
        return DeviceAvailability.of(self.clock(), state, "display")

    def start(self, wait_s: float = 10.0) -> None:
        """Subscribe and connect (retained state arrives right after)."""
        for topic_filter in self.model.subscriptions():
            self.bus.subscribe(topic_filter, self._on_message)
        self.bus.when_connected(self._publish_status)
        if self.announcer is not None:
            self.announcer.start()
        self.bus.start(wait_s)

    def stop(self) -> None:
        """Say offline, disconnect, stop the voice."""
        self.bus.stop()
        if self.announcer is not None:
            self.announcer.stop()

    def _publish_status(self) -> None:
        self._connected_at = time.monotonic()
        status = DeviceStatus(ts=self.clock(), ok=True, error=self.voice_problem)
        self.bus.publish(self.topics.device(self.profile.id, "status"), status, retain=True)

    def _on_message(self, topic: str, payload: bytes) -> None:
        change = self.model.apply(topic, payload)
        if change is None:
            return
        if change.call is not None:
            self.received[change.call.call_id] = time.monotonic()
            self._speak(change.call)
        if self.on_change is not None:
            self.on_change(change)
        if change.kind in ("call", "recent", "window", "queue"):
            self._render_ahead()

    def mine(self, call: Call) -> bool:
        """Whether this display reads the call: a hall display all, a window display its own."""
        return self.window is None or call.window_id == self.window

    def _speak(self, call: Call) -> None:
        if self.announcer is None or not self.profile.voice or not self.mine(call):
            return
        # Only calls the broker kept for us while we were away are judged by their age: a live call is read
        # even when this board's clock is off.
        catching_up = time.monotonic() - self._connected_at < CATCH_UP_S
        if catching_up and self.clock() - call.ts > STALE_CALL:
            log.info("display: call %s from %s was queued while offline: shown, not read", call.ticket, call.ts)
            return
        self.announcer.announce(call.speech, key=call.call_id)

    def _render_ahead(self) -> None:
        if self.announcer is None or not self.profile.voice:
            return
        snap = self.model.snapshot()
        windows = [w for w in snap.windows.values() if self.window is None or w.window_id == self.window]
        self.announcer.prepare(likely_calls(windows, snap.queue, snap.recent))
