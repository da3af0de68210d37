"""A minimal server-sent-events reader for tests: reads a real HTTP stream on a thread, parses events."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Event:
    """One parsed event."""

    id: str | None
    kind: str
    data: dict[str, Any]


@dataclass
class SseReader:
    """GET `url` as text/event-stream on a thread; `wait_for` blocks until a matching event arrived."""

    url: str
    status: int | None = None
    events: list[Event] = field(default_factory=list)
    comments: int = 0
    cond: threading.Condition = field(default_factory=threading.Condition)
    _conn: http.client.HTTPConnection | None = None
    _thread: threading.Thread | None = None
    _closed: bool = False

    def start(self) -> SseReader:
        self._thread = threading.Thread(target=self._read, daemon=True, name="sse-reader")
        self._thread.start()
        with self.cond:
            assert self.cond.wait_for(lambda: self.status is not None, 10), "the stream did not answer"
        return self

    def _read(self) -> None:
        parts = urlsplit(self.url)
        self._conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
        try:
            self._conn.request("GET", f"{parts.path}?{parts.query}", headers={"Accept": "text/event-stream"})
            response = self._conn.getresponse()
            with self.cond:
                self.status = response.status
                self.cond.notify_all()
            if response.status == 200:
                self._parse(response)
        except (OSError, http.client.HTTPException, ValueError):
            if not self._closed:
                raise
        finally:
            with self.cond:
                self.status = self.status or -1
                self.cond.notify_all()

    def _parse(self, response: http.client.HTTPResponse) -> None:
        fields: dict[str, str] = {}
        while raw := response.readline():
            line = raw.decode("utf-8").rstrip("\r\n")
            if line.startswith(":"):
                with self.cond:
                    self.comments += 1
                continue
            if line:
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
                continue
            if "data" in fields:
                event = Event(fields.get("id"), fields.get("event", "message"), json.loads(fields["data"]))
                with self.cond:
                    self.events.append(event)
                    self.cond.notify_all()
            fields = {}

    def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 10.0) -> Event:
        """The first event (already received or coming) that matches."""

        def find() -> Event | None:
            return next((e for e in self.events if predicate(e)), None)

        with self.cond:
            ok = self.cond.wait_for(lambda: find() is not None, timeout)
            assert ok, f"no matching event within {timeout}s; got {[e.kind for e in self.events]}"
            found = find()
            assert found is not None
            return found

    def kinds(self) -> list[str]:
        with self.cond:
            return [e.kind for e in self.events]

    def close(self) -> None:
        """Drop the connection at once (the server sees the stream end)."""
        self._closed = True
        sock = self._conn.sock if self._conn is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
