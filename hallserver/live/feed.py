"""The live floor feed: turns what REST actions, bus requests and devices changed into floor events.

Producers (the publisher, on request threads, the gateway's worker and paho's network thread) only put a
small job on a queue and return. One worker thread drains whatever has accumulated, reads the changed
windows, the queue and the alerts in bulk, and publishes full-state events (a window's whole row, every
group, every alert): applying one twice is harmless, so a stream that resumes or starts from a snapshot
can never end up wrong. The worker runs only while a stream is connected; a periodic tick refreshes the
values that change with time alone (longest wait, deadlines)."""

from __future__ import annotations

import json
import logging
import queue
import threading
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlmodel import Session

from firmware_config.devices import DeviceSet
from hallserver import cityfeed
from hallserver.db import session_scope
from hallserver.live.hub import LiveHub
from hallserver.live.tickets import StreamTickets
from hallserver.presentation import alerts, case_alerts, complaint_alerts, floor
from hallserver.services.context import HallContext
from hallserver.views import bus_state as state  # the bus's call text: the floor says what displays say

if TYPE_CHECKING:  # the gateway imports the bus client; only its type is needed here
    from hallserver.bus_view import BusView

log = logging.getLogger("hallq.live")
TICK_S = 15.0
_UNSET = object()


@dataclass
class Pending:
    """Changes accumulated since the worker last published."""

    windows: set[str] = field(default_factory=set)
    queue: bool = False
    calls: list[int] = field(default_factory=list)  # ticket ids
    devices: set[str] = field(default_factory=set)
    notice: Any = _UNSET
    tick: bool = False

    def add(self, what: str, arg: Any) -> None:
        """Merge one job."""
        if what == "effects":
            self.windows |= arg.windows
            self.queue = self.queue or arg.queue or bool(arg.windows)
            self.calls.extend(ticket for ticket, _window in arg.calls)
        elif what == "device":
            self.devices.add(arg)
        elif what == "notice":
            self.notice = arg
        elif what == "tick":
            self.tick = True


class FloorFeed:
    """Live events of one hall's floor, and the snapshot a stream starts from."""

    def __init__(
        self,
        ctx: HallContext,
        engine: Engine,
        gateway: BusView | None = None,
        devices: DeviceSet | None = None,
        hub: LiveHub | None = None,
        tick_s: float = TICK_S,
    ) -> None:
        self.ctx = ctx
        self.engine = engine
        self.gateway = gateway
        self.device_set = devices
        self.hub = hub or LiveHub()
        self.tickets: StreamTickets[Any] = StreamTickets()
        self.tick_s = tick_s
        self._jobs: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._last: dict[str, str] = {}  # event kind → its last JSON, to skip publishing what did not change
        self._groups: list[dict[str, Any]] | None = None

    # --- producers: any thread, never blocking ---

    def on_change(self, what: str, arg: Any) -> None:
        """A change from the publisher: ("effects", Effects) | ("device", device id) | ("notice", message)."""
        if self.hub.subscribers:
            self._jobs.put((what, arg))
        else:  # nobody watching: not worth reading the database, but a stream must not resume across it
            self.hub.gap()

    # --- the stream's side ---

    def ensure_running(self) -> None:
        """Start the worker if it is not running (call after subscribing to the hub)."""
        with self._lock:
            if self._thread is None:
                self._last.clear()
                self._groups = None
                self._thread = threading.Thread(target=self._run, name="hallq-live", daemon=True)
                self._thread.start()

    def snapshot(self) -> dict[str, Any]:
        """The whole floor now; `event_id` is where a stream opened after it resumes."""
        event_id = self.hub.last_id  # taken first: anything newer is replayed on top of the snapshot
        now = self.ctx.now()
        with session_scope(self.engine) as s:
            windows = [asdict(w) for w in floor.windows(s, self.ctx)]
            groups = floor.groups(s, self.ctx, now)
            devices = self._devices()
            found = self._alerts(s, groups, devices)
            calls = [c.model_dump(mode="json") for c in state.recent_calls(s, self.ctx)]  # 最近呼叫, newest first
        return {
            "hall": {"id": self.ctx.profile.hall.id, "name": self.ctx.profile.hall.name},
            "now": now.isoformat(),
            "event_id": event_id,
            "bus": self.gateway is not None,
            "notice": self._notice(),
            "windows": windows,
            "groups": groups,
            "devices": devices,
            "alerts": found,
            "calls": calls,
        }

    # --- the worker ---

    def _run(self) -> None:
        while True:
            try:
                first = self._jobs.get(timeout=self.tick_s)
            except queue.Empty:
                first = ("tick", None)
            with self._lock:
                if self.hub.subscribers == 0 and self._jobs.empty():
                    self._thread = None  # the next stream starts a new worker
                    return
            pending = Pending()
            pending.add(*first)
            while True:  # coalesce whatever else is already waiting
                try:
                    pending.add(*self._jobs.get_nowait())
                except queue.Empty:
                    break
            try:
                self._publish(pending)
            except Exception:  # a database hiccup must not end the live floor
                log.exception("live floor update failed")

    def _publish(self, p: Pending) -> None:
        now = self.ctx.now()
        with session_scope(self.engine) as s:
            if p.windows:
                rows = floor.windows(s, self.ctx, p.windows)
                self.hub.publish("windows", {"windows": [asdict(w) for w in rows]})
            if p.calls:
                self._publish_calls(s, p.calls)
            if p.queue or p.tick or self._groups is None:
                self._groups = floor.groups(s, self.ctx, now)
                self._changed("groups", {"groups": self._groups, "now": now.isoformat()}, ignore=("now",))
            if p.devices:
                self.hub.publish("devices", {"devices": self._devices(p.devices)})
            devices = self._devices()
            self._changed("alerts", {"alerts": self._alerts(s, self._groups, devices)})
        if p.notice is not _UNSET:
            self.hub.publish("notice", {"notice": p.notice})

    def _publish_calls(self, s: Session, tickets: list[int]) -> None:
        calls = [state.latest_call(s, self.ctx, t) for t in tickets]
        found = [c.model_dump(mode="json") for c in calls if c is not None]
        if found:
            self.hub.publish("calls", {"calls": found})

    def _changed(self, kind: str, data: dict[str, Any], ignore: tuple[str, ...] = ()) -> None:
        """Publish unless the same content (apart from `ignore`d keys) was the last of its kind."""
        key = json.dumps({k: v for k, v in data.items() if k not in ignore}, sort_keys=True, ensure_ascii=False)
        if self._last.get(kind) != key:
            self._last[kind] = key
            self.hub.publish(kind, data)

    # --- facts ---

    def _devices(self, only: set[str] | None = None) -> list[dict[str, Any]]:
        seen = dict(self.gateway.seen) if self.gateway is not None else {}
        return floor.devices(self.device_set, seen, only)

    def _notice(self) -> str | None:
        return self.gateway.notice if self.gateway is not None else None

    def _assists(self) -> list[dict[str, Any]]:
        return [c.public() for c in self.gateway.assist.recent(True)] if self.gateway is not None else []

    def _alerts(self, s: Session, groups: list[dict[str, Any]], devices: list[dict[str, Any]]) -> list[dict[str, Any]]:
        now = self.ctx.now()
        facts = alerts.Facts(
            groups=groups,
            devices=devices,
            reviews=alerts.gather_reviews(s, self.ctx, now),
            rectifications=alerts.gather_rectifications(s, self.ctx, now.date()),
            assists=self._assists(),
            cases=[
                *case_alerts.gather(s, self.ctx),
                *complaint_alerts.gather(s, self.ctx),
                *cityfeed.alerts(self.ctx),  # a city catalog/calendar refused: the last good one serves
            ],
        )
        return [asdict(a) for a in alerts.evaluate(facts, now)]
