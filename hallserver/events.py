"""Domain events: what an action changed (Effects), and the one Publisher that fans it out — to the bus
gateway (retained state, calls, print jobs, prompts) and to the managers' live floor. REST routes and bus
handlers both publish here after their transaction commits; no adapter tells another adapter anything."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

log = logging.getLogger("hallq.events")
ChangeKind = Literal["effects", "device", "notice"]
Listener = Callable[[ChangeKind, Any], None]


@dataclass(frozen=True)
class PrintOrder:
    """A document to send to a printer device after the transaction committed."""

    printer: str
    job_id: str
    kind: str
    document: dict[str, Any]
    origin: str | None = None  # the device to tell if printing fails


@dataclass
class Effects:
    """Changes made by one action; published after commit."""

    windows: set[str] = field(default_factory=set)
    queue: bool = False
    calls: list[tuple[int, str]] = field(default_factory=list)  # (ticket id, window id)
    prints: list[PrintOrder] = field(default_factory=list)
    prompts: list[int] = field(default_factory=list)  # visits whose window's evaluator should ask for a rating
    answered: list[tuple[str, int]] = field(default_factory=list)  # (window, visit) rated: clear that prompt

    def window(self, window_id: str, queue: bool = True) -> Effects:
        """Mark a window (and by default the queue) as changed."""
        self.windows.add(window_id)
        self.queue = self.queue or queue
        return self

    @property
    def empty(self) -> bool:
        """True when nothing needs publishing."""
        return not (self.windows or self.queue or self.calls or self.prints or self.prompts or self.answered)


class Publisher:
    """One fan-out for every change: ("effects", Effects) after an action, ("device", device id) when a
    device's availability or status moved, ("notice", message or None) when a broadcast changed.
    Listeners must not block (they queue work for their own threads); one failing never stops the rest."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> None:
        """Hear every change from now on."""
        with self._lock:
            self._listeners.append(listener)

    def publish(self, kind: ChangeKind, detail: Any, done: Listener | None = None) -> None:
        """Tell every listener (but `done`, the publisher's own listener when it already acted on it)."""
        with self._lock:
            listeners = [listener for listener in self._listeners if listener != done]
        for listener in listeners:
            try:
                listener(kind, detail)
            except Exception:  # a broken listener must never fail the action that changed something
                log.exception("a listener of %s failed", kind)

    def changed(self, effects: Effects, done: Listener | None = None) -> None:
        """What an action changed (published even when empty: a rating changes the alerts)."""
        self.publish("effects", effects, done)
