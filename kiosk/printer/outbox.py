"""Job results on their way to the server: published at a bounded rate, and marked acknowledged in the
journal once the broker's PUBACK for them arrived (the server's persistent session holds them from then
on), so a restarted agent resends only what the broker never confirmed."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable

import paho.mqtt.client as mqtt

from kiosk.printer.journal import Entry

log = logging.getLogger("hallq.printer.outbox")
RESULTS_PER_S = 50  # a restart with a backlog must never flood the broker's queue for the server
ACK_POLL_S = 0.5


class RateLimiter:
    """At most `rate` acquisitions in any window of `per_s` seconds (a sliding window, so an occasional
    burst below the rate goes out at once). Clock and sleep are injectable: tests run on a fake clock."""

    def __init__(
        self,
        rate: int = RESULTS_PER_S,
        per_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        if rate < 1 or per_s <= 0:
            raise ValueError("the rate needs at least one message per positive period")
        self.rate = rate
        self.per_s = per_s
        self.clock = clock
        self.sleep = sleep
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait until one more message fits in the window; the instant it was allowed."""
        with self._lock:
            while True:
                now = self.clock()
                while self._times and now - self._times[0] >= self.per_s:
                    self._times.popleft()
                if len(self._times) < self.rate:
                    self._times.append(now)
                    return now
                self.sleep(self.per_s - (now - self._times[0]))


class ResultOutbox:
    """A sender thread (rate-limited, only while connected) and an acknowledgement thread (waits for each
    PUBACK in order, then calls `acknowledged`). A result that paho took while the connection was down
    cannot be followed to its PUBACK: it is sent again after the reconnection (a duplicate result is
    harmless, the server handles each job's result once)."""

    def __init__(
        self,
        publish: Callable[[Entry], mqtt.MQTTMessageInfo],
        acknowledged: Callable[[Entry], object],
        wait_connected: Callable[[float], bool],
        limiter: RateLimiter | None = None,
        name: str = "printer-results",
    ) -> None:
        self._publish = publish
        self._acknowledged = acknowledged
        self._wait_connected = wait_connected
        self.limiter = limiter or RateLimiter()
        self.name = name
        self._send: queue.Queue[Entry | None] = queue.Queue()
        self._inflight: queue.Queue[tuple[Entry, mqtt.MQTTMessageInfo] | None] = queue.Queue()
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._open = 0  # results put and neither acknowledged nor abandoned at stop
        self._threads: list[threading.Thread] = []
        self.sent = 0  # publications, resends included
        self.acked = 0

    def start(self) -> None:
        """Start the sender and the acknowledgement threads."""
        for target, suffix in ((self._sender, "send"), (self._acker, "ack")):
            thread = threading.Thread(target=target, name=f"{self.name}-{suffix}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def put(self, entry: Entry) -> None:
        """Queue a result (never blocks: safe on the network thread)."""
        with self._idle:
            self._open += 1
        self._send.put(entry)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every result put so far is acknowledged."""
        with self._idle:
            return self._idle.wait_for(lambda: self._open == 0, timeout)

    @property
    def pending(self) -> int:
        """Results not yet acknowledged."""
        with self._idle:
            return self._open

    def stop(self) -> None:
        """Stop both threads; what is not acknowledged stays so in the journal and is sent after a restart."""
        self._stop.set()
        self._send.put(None)
        self._inflight.put(None)
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    def _sender(self) -> None:
        while (entry := self._send.get()) is not None:
            while not self._stop.is_set() and not self._wait_connected(ACK_POLL_S):
                pass
            if self._stop.is_set():
                return
            self.limiter.acquire()
            info = self._publish(entry)
            self.sent += 1
            self._inflight.put((entry, info))

    def _acker(self) -> None:
        while (item := self._inflight.get()) is not None:
            entry, info = item
            while not self._stop.is_set():
                try:
                    info.wait_for_publish(ACK_POLL_S)
                    if not info.is_published():
                        continue
                except (RuntimeError, ValueError):
                    # taken while disconnected: its PUBACK cannot be told from here, send it again
                    self._send.put(entry)
                    break
                self._acknowledged(entry)
                self.acked += 1
                with self._idle:
                    self._open -= 1
                    self._idle.notify_all()
                break
