"""A thread-safe broadcast hub from worker threads to asyncio server-sent-event streams.

Publishers (the live feed's worker thread) never wait on a subscriber: each event is handed to the
subscriber's event loop with `call_soon_threadsafe` and put in a bounded queue there. A subscriber that
falls too far behind is told to resynchronise (its queue is replaced by one `None`) instead of slowing
anyone down. Recent events are kept so a reconnecting stream can resume from its Last-Event-ID."""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

HISTORY = 512  # events kept for resuming streams
QUEUE_SIZE = 256  # events a slow subscriber may lag before it must resynchronise


@dataclass(frozen=True)
class LiveEvent:
    """One event: `id` is "<epoch>.<seq>" so ids from before a server restart are never mistaken as ours."""

    seq: int
    epoch: str
    kind: str
    data: dict[str, Any]

    @property
    def id(self) -> str:
        """The SSE id."""
        return f"{self.epoch}.{self.seq}"

    def encode(self) -> bytes:
        """The event in text/event-stream framing."""
        return encode(self.id, self.kind, self.data)


def encode(event_id: str | None, kind: str, data: dict[str, Any]) -> bytes:
    """One server-sent event: JSON data on one line (JSON never contains a raw newline)."""
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {kind}\ndata: {payload}\n\n".encode()


class Subscriber:
    """One stream's inbox, living on that stream's event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, size: int) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[LiveEvent | None] = asyncio.Queue(maxsize=size)
        self.overflowed = False

    def offer(self, event: LiveEvent) -> None:
        """Queue an event (runs on the subscriber's loop); on overflow leave one `None`: resynchronise."""
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)


class LiveHub:
    """Fan-out of live events to every connected stream, with a short history for resuming."""

    def __init__(self, history: int = HISTORY, queue_size: int = QUEUE_SIZE) -> None:
        self.epoch = secrets.token_hex(4)
        self._seq = 0
        self._history: deque[LiveEvent] = deque(maxlen=history)
        self._subscribers: set[Subscriber] = set()
        self._queue_size = queue_size
        self._lock = threading.Lock()

    @property
    def last_id(self) -> str:
        """The id of the newest event (seq 0 before any)."""
        with self._lock:
            return f"{self.epoch}.{self._seq}"

    @property
    def subscribers(self) -> int:
        """How many streams are connected."""
        with self._lock:
            return len(self._subscribers)

    def publish(self, kind: str, data: dict[str, Any]) -> LiveEvent:
        """Record an event and hand it to every subscriber without waiting (any thread)."""
        with self._lock:
            self._seq += 1
            event = LiveEvent(self._seq, self.epoch, kind, data)
            self._history.append(event)
            targets = list(self._subscribers)
        for sub in targets:
            try:
                sub.loop.call_soon_threadsafe(sub.offer, event)
            except RuntimeError:  # its loop is closed: the stream is gone
                self.unsubscribe(sub)
        return event

    def gap(self) -> None:
        """Something changed that no event records (nobody was listening): no older id can resume."""
        with self._lock:
            self._seq += 1
            self._history.clear()

    def subscribe(
        self, loop: asyncio.AbstractEventLoop, last_id: str | None = None
    ) -> tuple[Subscriber, list[LiveEvent] | None]:
        """A new subscriber and the events it missed since `last_id`; None when they cannot be replayed
        (no id, another epoch, or older than the history): the stream must start with a snapshot."""
        sub = Subscriber(loop, self._queue_size)
        with self._lock:
            self._subscribers.add(sub)
            return sub, self._missed(last_id)

    def _missed(self, last_id: str | None) -> list[LiveEvent] | None:
        if not last_id:
            return None
        epoch, _, seq_text = last_id.partition(".")
        if epoch != self.epoch or not seq_text.isdigit():
            return None
        seq = int(seq_text)
        if seq > self._seq:
            return None
        if seq == self._seq:
            return []
        oldest = self._history[0].seq if self._history else self._seq + 1
        if seq + 1 < oldest:
            return None  # part of the gap has left the history
        return [e for e in self._history if e.seq > seq]

    def unsubscribe(self, sub: Subscriber) -> None:
        """Forget a subscriber (idempotent)."""
        with self._lock:
            self._subscribers.discard(sub)
