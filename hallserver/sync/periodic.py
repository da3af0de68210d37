"""Periodic city records: the queue every 30 s, the devices (and the catalog and calendar the hall serves)
every minute — each appended to the outbox in its own transaction, only while the hall has a city link."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from hallcore.sync import DeviceHealthRecord, QueueSnapshotRecord
from hallserver.bus_view import BusView
from hallserver.db import session_scope
from hallserver.models import WindowRow, WindowStatus
from hallserver.services import estimates
from hallserver.services.context import HallContext
from hallserver.sync import outbox, records

log = logging.getLogger("hallq.sync")

QUEUE_EVERY_S = 30.0
DEVICES_EVERY_S = 60.0


def queue_snapshot(session: Session, ctx: HallContext) -> QueueSnapshotRecord:
    """The queue and the open windows now."""
    now = ctx.now()
    groups = [
        (g.group, g.waiting, g.estimated_wait_min, g.longest_wait_min) for g in estimates.queue_state(session, ctx, now)
    ]
    open_windows = session.exec(
        select(func.count()).select_from(WindowRow).where(WindowRow.status == WindowStatus.open)
    ).one()
    return records.queue_snapshot(now, groups, int(open_windows))


def _problem(status: dict[str, object]) -> bool:
    return bool(status.get("error")) or status.get("paper") == "out" or status.get("cover") == "open"


def device_health(ctx: HallContext, bus: BusView | None) -> DeviceHealthRecord:
    """Devices online and offline, those with a fault, and the catalog and calendar versions served."""
    from hallserver import cityfeed  # the versions the city published and this hall applied (同源发布)

    versions = cityfeed.served_versions(ctx)
    online = offline = 0
    problems: list[str] = []
    if bus is not None:
        for device in bus.devices.devices:
            seen = bus.seen.get(device.id)
            if seen is not None and seen.online:
                online += 1
                if _problem(seen.status):
                    problems.append(device.id)
            else:
                offline += 1
                problems.append(device.id)
    return DeviceHealthRecord(
        at=ctx.now(),
        online=online,
        offline=offline,
        problems=problems[:500],
        catalog_version=versions.get("catalog_version", "")[:64] or None,
        calendar_version=versions.get("calendar_version", "")[:64] or None,
    )


class PeriodicRecords:
    """A daemon thread writing queue snapshots and device health into the outbox."""

    def __init__(self, ctx: HallContext, engine: Engine, bus: Callable[[], BusView | None]) -> None:
        self.ctx, self.engine, self.bus = ctx, engine, bus
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="hallq-city-records", daemon=True)

    def write_queue(self) -> None:
        """Append one queue snapshot."""
        with session_scope(self.engine) as s:
            outbox.append(s, [queue_snapshot(s, self.ctx)], self.ctx.now())

    def write_devices(self) -> None:
        """Append one device-health record."""
        record = device_health(self.ctx, self.bus())
        with session_scope(self.engine) as s:
            outbox.append(s, [record], self.ctx.now())

    def start(self) -> None:
        """Begin the periodic writes."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current write."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        next_queue = next_devices = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            for due, write, every in (
                (next_queue, self.write_queue, QUEUE_EVERY_S),
                (next_devices, self.write_devices, DEVICES_EVERY_S),
            ):
                if now >= due:
                    try:
                        write()
                    except Exception:  # a busy database must not end the periodic records
                        log.exception("city link: periodic record failed")
                    if write == self.write_queue:
                        next_queue = now + every
                    else:
                        next_devices = now + every
            self._stop.wait(max(0.1, min(next_queue, next_devices) - time.monotonic()))
