"""A TCP ESC/POS printer for demos and tests: captures every byte per connection and answers DLE EOT
status queries from a settable state (paper ok/near_end/out, cover, error; offline = no answer)."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Self

from kiosk.printer.status import Cover, Paper, PrinterState, answers_for

log = logging.getLogger("hallq.printer.simulator")
DLE, EOT = 0x10, 0x04


@dataclass
class Capture:
    """Everything one connection sent: `raw` as received, `data` without the status queries."""

    peer: str
    opened: float = field(default_factory=time.time)
    raw: bytearray = field(default_factory=bytearray)
    data: bytearray = field(default_factory=bytearray)
    queries: list[int] = field(default_factory=list)
    closed: bool = False


def split_queries(buffer: bytes) -> tuple[bytes, list[int], bytes]:
    """(printable data, DLE EOT n queries in order, an incomplete query left at the end)."""
    data = bytearray()
    queries: list[int] = []
    pos = 0
    while pos < len(buffer):
        byte = buffer[pos]
        if byte == DLE and pos + 1 >= len(buffer):
            return bytes(data), queries, buffer[pos:]
        if byte == DLE and buffer[pos + 1] == EOT:
            if pos + 2 >= len(buffer):
                return bytes(data), queries, buffer[pos:]
            queries.append(buffer[pos + 2])
            pos += 3
            continue
        data.append(byte)
        pos += 1
    return bytes(data), queries, b""


class PrinterSimulator:
    """A printer on 127.0.0.1:`port` (0 picks a free one); thread-safe; start()/stop() or `with`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 9100,
        capture_file: Path | None = None,
        paper: Paper = "ok",
        cover: Cover = "closed",
        offline: bool = False,
        answer_delay_s: float = 0.0,
    ) -> None:
        self.host = host
        self.port = port
        self.capture_file = capture_file
        self.answer_delay_s = answer_delay_s
        self.on_data: Callable[[Capture], None] | None = None  # called after each received chunk
        self._state = PrinterState(paper=paper, cover=cover)
        self._silent = offline
        self._lock = threading.Condition()
        self._captures: list[Capture] = []
        self._server: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []
        self._running = False

    # --- state ---

    def set_state(
        self,
        paper: Paper | None = None,
        cover: Cover | None = None,
        offline: bool | None = None,
        error: bool | None = None,
    ) -> None:
        """Change what status queries answer; offline=True stops answering at all."""
        with self._lock:
            changes: dict[str, Any] = {}
            if paper is not None:
                changes["paper"] = paper
            if cover is not None:
                changes["cover"] = cover
            if error is not None:
                changes["error"] = error
            self._state = replace(self._state, **changes)
            if offline is not None:
                self._silent = offline

    @property
    def state(self) -> PrinterState:
        """The current state (what the status bytes say)."""
        with self._lock:
            return self._state

    # --- captures ---

    @property
    def captures(self) -> list[Capture]:
        """Every connection so far, oldest first (copies)."""
        with self._lock:
            return [replace(c, raw=bytearray(c.raw), data=bytearray(c.data)) for c in self._captures]

    def documents(self) -> list[bytes]:
        """What each connection sent apart from status queries, for connections that sent anything."""
        return [bytes(c.data) for c in self.captures if c.data]

    def data(self) -> bytes:
        """Every printed byte, all connections in order."""
        return b"".join(self.documents())

    def clear(self) -> None:
        """Forget the captures so far."""
        with self._lock:
            self._captures.clear()

    def wait_for(self, predicate: Callable[[PrinterSimulator], bool], timeout: float = 5.0) -> bool:
        """Wait until predicate(self) holds, re-checked whenever bytes arrive."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 0.1))
            return True

    # --- server ---

    def start(self) -> Self:
        """Listen and serve in background threads."""
        server = socket.create_server((self.host, self.port), reuse_port=False)
        server.settimeout(0.2)
        self.port = server.getsockname()[1]
        self._server = server
        self._running = True
        thread = threading.Thread(target=self._accept_loop, name=f"printer-sim-{self.port}", daemon=True)
        thread.start()
        self._threads.append(thread)
        log.info("printer simulator listening on %s:%s", self.host, self.port)
        return self

    def stop(self) -> None:
        """Stop listening, close every connection and wait for the threads."""
        self._running = False
        if self._server is not None:
            with contextlib.suppress(OSError):
                self._server.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=2)
        self._threads.clear()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        assert self._server is not None
        while self._running:
            try:
                conn, peer = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            thread = threading.Thread(target=self._serve, args=(conn, f"{peer[0]}:{peer[1]}"), daemon=True)
            with self._lock:
                self._conns.append(conn)
                self._threads = [t for t in self._threads if t.is_alive()]
                self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket, peer: str) -> None:
        capture = Capture(peer)
        with self._lock:
            self._captures.append(capture)
        pending = b""
        try:
            while self._running:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                data, queries, pending = split_queries(pending + chunk)
                self._record(capture, chunk, data, queries)
                if self.on_data is not None:
                    self.on_data(capture)
                for n in queries:
                    self._answer(conn, n)
        finally:
            with self._lock:
                capture.closed = True
                if conn in self._conns:
                    self._conns.remove(conn)
                self._lock.notify_all()
            with contextlib.suppress(OSError):
                conn.close()

    def _record(self, capture: Capture, chunk: bytes, data: bytes, queries: list[int]) -> None:
        with self._lock:
            capture.raw += chunk
            capture.data += data
            capture.queries += queries
            if data and self.capture_file is not None:
                with self.capture_file.open("ab") as out:
                    out.write(data)
            self._lock.notify_all()

    def _answer(self, conn: socket.socket, n: int) -> None:
        with self._lock:
            silent, state = self._silent, self._state
        if silent or n not in (1, 2, 3, 4):
            return
        if self.answer_delay_s:
            time.sleep(self.answer_delay_s)
        with contextlib.suppress(OSError):
            conn.sendall(bytes([answers_for(state)[n]]))
