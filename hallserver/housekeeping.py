"""Periodic housekeeping while the server runs: appointment no-shows and yesterday's leftover tickets."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

from hallserver.db import session_scope
from hallserver.services import appointments, tickets
from hallserver.services.context import HallContext

log = logging.getLogger("hallq.housekeeping")


class Housekeeper:
    """Runs `run_once` at start and then every `interval_s` seconds on a daemon thread."""

    def __init__(self, ctx: HallContext, engine: Engine, interval_s: float) -> None:
        self.ctx = ctx
        self.engine = engine
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="hallq-housekeeping", daemon=True)

    def run_once(self) -> tuple[int, int, int]:
        """Sweep no-shows and expire stale tickets; (no-shows, suspensions, expired tickets)."""
        with session_scope(self.engine) as s:
            swept = appointments.sweep_no_shows(s, self.ctx)
            expired = tickets.expire_stale(s, self.ctx)
        if swept.no_shows or swept.suspended or expired:
            log.info(
                "housekeeping: %d no-shows, %d suspended, %d stale tickets expired",
                swept.no_shows,
                swept.suspended,
                expired,
            )
        return swept.no_shows, swept.suspended, expired

    def start(self) -> None:
        """Begin the periodic runs."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current run."""
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a bad run must not end housekeeping
                log.exception("housekeeping run failed")
            self._stop.wait(self.interval_s)
