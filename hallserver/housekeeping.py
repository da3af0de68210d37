"""Periodic housekeeping while the server runs: appointment no-shows, yesterday's leftover tickets, and case
deadlines (补正/容缺 reminders and lapses, promised-date warnings)."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

from hallserver.db import session_scope
from hallserver.services import appointments, case_deadlines, tickets
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
        self.sweep_cases()
        if swept.no_shows or swept.suspended or expired:
            log.info(
                "housekeeping: %d no-shows, %d suspended, %d stale tickets expired",
                swept.no_shows,
                swept.suspended,
                expired,
            )
        return swept.no_shows, swept.suspended, expired

    def sweep_cases(self) -> case_deadlines.Sweep:
        """补正/容缺 deadlines (reminders, lapses) and promised-date warnings, in their own transaction."""
        with session_scope(self.engine) as s:
            done = case_deadlines.sweep(s, self.ctx)
        if done.reminded or done.lapsed or done.warned or done.supplied:
            log.info(
                "housekeeping: %d deadline reminders, %d deadlines lapsed, %d promise warnings, %d supplied",
                done.reminded,
                done.lapsed,
                done.warned,
                done.supplied,
            )
        return done

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
