"""Clocks: every service takes one, so tests can run a whole hall day in a second."""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple, Protocol

log = logging.getLogger("hallq.clock")


class Clock(Protocol):
    """Source of the current time as an aware datetime."""

    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class SystemClock:
    """The real wall clock, in UTC (services convert to the hall's zone)."""

    def now(self) -> datetime:
        """The current instant in UTC."""
        return datetime.now(UTC)


class OffsetClock:
    """The wall clock shifted to have started at a chosen instant: demos and training outside hours.

    It reads `start` at the wall instant `set_at` (default: now), so two processes given the same pair
    (the server and the devices of `hallq run`) show the same time."""

    def __init__(self, start: datetime, base: Clock | None = None, set_at: datetime | None = None) -> None:
        if start.tzinfo is None or (set_at is not None and set_at.tzinfo is None):
            raise ValueError("OffsetClock needs an aware datetime")
        self._base = base or SystemClock()
        self._offset = start - (set_at if set_at is not None else self._base.now())

    def now(self) -> datetime:
        """Real time passing, counted from the chosen start."""
        return self._base.now() + self._offset


def require_offset(value: datetime | None) -> datetime | None:
    """A demo clock's instants need their UTC offset (settings validator for server and devices alike)."""
    if value is not None and value.tzinfo is None:
        raise ValueError("clock_start and clock_set_at need a UTC offset, e.g. 2026-11-23T09:00:00+08:00")
    return value


def hall_clock(start: datetime | None, set_at: datetime | None = None, base: Clock | None = None) -> Clock:
    """The hall's clock: the wall clock, or a demo clock that read `start` at `set_at` (server and devices)."""
    if start is None:
        return base or SystemClock()
    return OffsetClock(start, base, set_at)


class ClockAnchor(NamedTuple):
    """A demo clock's anchor: it read `start` at the wall instant `set_at`."""

    start: datetime
    set_at: datetime


def anchor_demo_clock(start: datetime, path: Path, base: Clock | None = None) -> ClockAnchor:
    """The anchor of the demo clock started at `start`, kept in `path` so the clock survives restarts.

    The rule: the first time a start instant is given, the wall time is written next to it; whenever the
    same instant is given again the saved anchor is used, so the hall clock goes on from where it was
    (hall time = start + wall time elapsed since it was first given) and later tickets never sort before
    earlier ones. A different start instant (or a missing or unreadable file) starts the clock afresh."""
    if start.tzinfo is None:
        raise ValueError("the demo clock needs an aware datetime")
    saved = _read_anchor(path)
    if saved is not None and saved.start == start:
        return saved
    anchor = ClockAnchor(start, (base or SystemClock()).now())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(
        json.dumps({"start": anchor.start.isoformat(), "set_at": anchor.set_at.isoformat()}) + "\n", encoding="utf-8"
    )
    os.replace(tmp, path)
    if saved is not None:
        log.info("demo clock: new start %s replaces %s", start.isoformat(), saved.start.isoformat())
    return anchor


def _read_anchor(path: Path) -> ClockAnchor | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        anchor = ClockAnchor(datetime.fromisoformat(data["start"]), datetime.fromisoformat(data["set_at"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("demo clock: ignoring unreadable anchor %s (%s)", path, exc)
        return None
    if anchor.start.tzinfo is None or anchor.set_at.tzinfo is None:
        log.warning("demo clock: ignoring anchor without UTC offsets in %s", path)
        return None
    return anchor


class ManualClock:
    """A clock that moves only when told to: for tests, the simulator and benchmarks."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The instant the clock was last set to."""
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> datetime:
        """Move forward by a timedelta given as keyword arguments (minutes=5)."""
        with self._lock:
            self._now += timedelta(**delta)
            return self._now

    def set(self, instant: datetime) -> None:
        """Jump to an instant (forwards or backwards)."""
        if instant.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        with self._lock:
            self._now = instant
