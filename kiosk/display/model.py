"""What a display knows, built only from bus messages (retained state first, then live updates).
Thread-safe: the bus thread applies messages, the screen thread takes snapshots."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from typing import Any

import paho.mqtt.client as mqtt
from pydantic import ValidationError

from broker.client import decode
from broker.messages import Call, DeviceNotice, QueueState, RecentCalls, ServerAvailability, WindowState
from broker.topics import Topics

log = logging.getLogger("hallq.display")
BROADCAST = "broadcast"  # DeviceNotice.type of a manager's notice for the screens


@dataclass(frozen=True)
class Snapshot:
    """An immutable copy of the display state for one render."""

    windows: dict[str, WindowState] = field(default_factory=dict)
    window_extras: dict[str, dict[str, Any]] = field(default_factory=dict)  # fields newer than our model
    queue: QueueState | None = None
    recent: tuple[Call, ...] = ()
    server_online: bool | None = None
    notice: str | None = None
    version: int = 0


@dataclass(frozen=True)
class Change:
    """What one message changed; `call` is set for a live call announcement."""

    kind: str
    call: Call | None = None


class DisplayModel:
    """Applies bus messages of one hall to a Snapshot."""

    def __init__(self, topics: Topics, device_id: str, recent_limit: int = 10, window: str | None = None) -> None:
        self.topics = topics
        self.device_id = device_id
        self.window = window  # a window display listens to its own window only
        self.recent_limit = recent_limit
        self._lock = threading.Lock()
        self._state = Snapshot()

    def snapshot(self) -> Snapshot:
        """The current state."""
        with self._lock:
            return self._state

    def subscriptions(self) -> tuple[str, ...]:
        """Every filter a display listens to (public state and its own notices)."""
        return (
            self.topics.server_availability(),
            self.topics.window_state(self.window) if self.window else self.topics.window_states(),
            self.topics.queue_state(),
            self.topics.call(),
            self.topics.calls_recent(),
            self.topics.device(self.device_id, "notice"),
        )

    def apply(self, topic: str, payload: bytes) -> Change | None:
        """Apply one message; None when it changed nothing or was not understood (logged)."""
        try:
            return self._apply(topic, payload)
        except ValidationError as exc:
            log.warning("display: malformed message on %s dropped: %s", topic, exc.errors()[:1])
            return None

    def _update(self, **changes: Any) -> None:
        with self._lock:
            self._state = replace(self._state, version=self._state.version + 1, **changes)

    def _apply(self, topic: str, payload: bytes) -> Change | None:
        t = self.topics
        if topic == t.call():
            return self._call(Call.model_validate_json(payload))
        if topic == t.calls_recent():
            calls = RecentCalls.model_validate_json(payload).calls if payload else []
            self._update(recent=tuple(calls[: self.recent_limit]))
            return Change("recent")
        if mqtt.topic_matches_sub(t.window_states(), topic):
            return self._window(payload)
        if topic == t.queue_state():
            self._update(queue=QueueState.model_validate_json(payload) if payload else None)
            return Change("queue")
        if topic == t.server_availability():
            online = ServerAvailability.model_validate_json(payload).state == "online" if payload else None
            self._update(server_online=online)
            return Change("server")
        if topic == t.device(self.device_id, "notice"):
            return self._notice(payload)
        return None

    def _call(self, call: Call) -> Change:
        with self._lock:
            recent = (call, *(c for c in self._state.recent if c.call_id != call.call_id))
            self._state = replace(self._state, version=self._state.version + 1, recent=recent[: self.recent_limit])
        return Change("call", call)

    def _window(self, payload: bytes) -> Change | None:
        if not payload:
            return None
        state = WindowState.model_validate_json(payload)
        raw = decode(payload) or {}
        extras = {k: v for k, v in raw.items() if k not in WindowState.model_fields}
        with self._lock:
            windows = {**self._state.windows, state.window_id: state}
            all_extras = {**self._state.window_extras, state.window_id: extras}
            self._state = replace(
                self._state, version=self._state.version + 1, windows=windows, window_extras=all_extras
            )
        return Change("window")

    def _notice(self, payload: bytes) -> Change | None:
        if not payload:
            self._update(notice=None)
            return Change("notice")
        notice = DeviceNotice.model_validate_json(payload)
        if notice.type != BROADCAST:
            return None
        self._update(notice=notice.message.strip() or None)
        return Change("notice")
