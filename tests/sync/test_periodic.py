"""The periodic city records: a queue snapshot (waiting per group, open windows, longest wait) and device
health (online, offline, which have a fault, the catalog and calendar served), each in the outbox."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from firmware_config.devices import DeviceSet, load_devices
from hallcore.clock import ManualClock
from hallcore.sync import RECORDS, parse
from hallserver.bus_view import DeviceSeen
from hallserver.services.context import HallContext
from hallserver.sync import outbox
from hallserver.sync.periodic import PeriodicRecords
from tests.bus.fixtures import DEMO_HALL
from tests.integration.helpers import issue
from tests.sync.helpers import outbox_rows, record


@dataclass
class FloorSeen:
    """What the gateway knows of the devices (the BusView fields periodic records read)."""

    devices: DeviceSet
    seen: dict[str, DeviceSeen] = field(default_factory=dict)


def test_queue_and_device_records(engine: Engine, ctx: HallContext, clock: ManualClock) -> None:
    for _ in range(3):
        issue(engine, ctx, group="consult")
    clock.advance(minutes=12)
    devices = load_devices(DEMO_HALL / "devices.yaml", ctx.profile)
    floor = FloorSeen(devices, {d.id: DeviceSeen(online=True) for d in devices.devices})
    first, second = devices.devices[0].id, devices.devices[1].id
    floor.seen[first] = DeviceSeen(online=False)
    floor.seen[second] = DeviceSeen(online=True, status={"paper": "out"})
    jobs = PeriodicRecords(ctx, engine, lambda: floor)  # type: ignore[arg-type,return-value]
    jobs.write_queue()
    jobs.write_devices()
    queue, health = outbox_rows(engine)
    assert (queue.kind, health.kind) == ("queue.snapshot", "device.health")
    q = record(queue)
    assert q["waiting"] == 3 and q["longest_wait_min"] == 12 and q["open_windows"] == len(ctx.profile.windows)
    assert {g["group"]: g["waiting"] for g in q["groups"]}["consult"] == 3
    h = record(health)
    assert (h["online"], h["offline"]) == (len(devices.devices) - 1, 1)
    assert set(h["problems"]) == {first, second}
    assert h["catalog_version"] and h["calendar_version"]
    for row in (queue, health):
        parse(RECORDS[row.kind][0].value, outbox.message(row, "0001", ctx.calendar.zone))
