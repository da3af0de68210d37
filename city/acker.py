"""The acker: the one place that advances the halls' watermarks and publishes `hall/{code}/sync/ack`.

Ingest workers only insert (ledger + records) and NOTIFY the halls of each committed batch; they never lock
a watermark row, so two workers no longer serialise on each other's halls. Every worker process runs an
acker thread, but only the one holding a PostgreSQL session advisory lock acts (a worker killed with -9
drops its session, so another takes over within a second). The leader wakes on the notifications, advances
the notified halls over their contiguous received seqs, commits, then acknowledges each of them (a replay
gets its ack too). On taking over, and every `scan_s`, it sweeps every hall that has records (nothing a
lost notification could leave unacknowledged); a sweep only acknowledges halls whose watermark moved.
A single writer, reading the committed watermark and only moving it up, keeps acks per hall monotonic."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from city.store import STORED_CHANNEL, advance_watermarks
from hallcore.clock import Clock

log = logging.getLogger("city.acker")
LEADER_KEY = 0x6369747961636B72  # pg_advisory_lock key ("cityackr")
_HALLS_WITH_RECORDS = text(
    "SELECT code FROM city_hall c WHERE EXISTS (SELECT 1 FROM received r WHERE r.hall = c.code) ORDER BY code"
)

Publish = Callable[[str, int, datetime], None]


class Acker:
    """Runs until `stop` is set; `publish(hall, upto, ts)` sends one ack (the worker's consumer)."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        publish: Publish,
        gather_s: float = 0.02,
        scan_s: float = 5.0,
        retry_s: float = 1.0,
    ) -> None:
        self.engine, self.clock, self.publish = engine, clock, publish
        self.gather_s, self.scan_s, self.retry_s = gather_s, scan_s, retry_s
        self.leading = threading.Event()
        self.rounds = 0

    def _dsn(self) -> str:
        return self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                with psycopg.connect(self._dsn(), autocommit=True) as conn:
                    self._lead(conn, stop)
            except (psycopg.OperationalError, OperationalError) as exc:
                log.error("acker: city database unreachable (%s)", str(exc).splitlines()[0][:200])
            except Exception:  # never let the acker thread die: log, reconnect, go on
                log.exception("acker failed; restarting it")
            finally:
                self.leading.clear()
            stop.wait(self.retry_s)

    def _lead(self, conn: psycopg.Connection, stop: threading.Event) -> None:
        """Wait to become the leader on this session, then serve until stopped or the session breaks."""
        while not conn.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_KEY,)).fetchone()[0]:  # type: ignore[index]
            if stop.wait(self.retry_s):
                return
        conn.execute(f"LISTEN {STORED_CHANNEL}")
        self.leading.set()
        log.info("acker leading")
        self._sweep("positive")  # whatever was committed before LISTEN
        next_sweep = time.monotonic() + self.scan_s
        while not stop.is_set():
            halls: set[str] = set()
            wait = max(0.0, min(0.5, next_sweep - time.monotonic()))
            for note in conn.notifies(timeout=wait, stop_after=1):
                halls.update(h for h in note.payload.split(",") if h)
            if halls:  # gather the other worker's commits of the same moment into one round
                for note in conn.notifies(timeout=self.gather_s):
                    halls.update(h for h in note.payload.split(",") if h)
                self._round(sorted(halls), "all")
            if time.monotonic() >= next_sweep:
                self._sweep("moved")
                next_sweep = time.monotonic() + self.scan_s

    def _sweep(self, announce: str) -> None:
        with self.engine.connect() as conn:
            halls = [r.code for r in conn.execute(_HALLS_WITH_RECORDS)]
        self._round(halls, announce)

    def _round(self, halls: list[str], announce: str) -> None:
        """Advance and commit, then acknowledge: "all" the given halls (they just sent records or replays),
        the "positive" ones (taking over), or only those whose watermark "moved" (a sweep)."""
        if not halls:
            return
        with self.engine.begin() as conn:
            state = advance_watermarks(conn, halls, self.clock.now())
        now = self.clock.now()
        for hall, (upto, moved) in state.items():
            if moved or announce == "all" or (announce == "positive" and upto > 0):
                self.publish(hall, upto, now)
        self.rounds += 1
