"""The demo hall on loopback for benches: a generated broker, a migrated SQLite file and server settings,
all in a temporary folder removed afterwards."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from broker.mosquitto import BrokerProcess, free_port, render
from firmware_config.devices import DeviceSet, load_devices
from firmware_config.hall import HallProfile, load_hall_profile
from hallserver.db import upgrade
from hallserver.settings import Settings

DEMO = Path(__file__).resolve().parents[1] / "firmware_config" / "halls" / "demo"


@dataclass(frozen=True)
class LoopbackHall:
    """What a bench needs to talk to the running demo hall."""

    root: Path
    hall: HallProfile
    devices: DeviceSet
    secret: Path
    broker: BrokerProcess
    settings: Settings


@contextmanager
def loopback_hall() -> Iterator[LoopbackHall]:
    """Start the demo hall's broker and prepare its database; stop and clean up on exit."""
    root = Path(tempfile.mkdtemp(prefix="hallq-bench-"))
    root.chmod(0o755)  # the broker runs as the mosquitto user
    try:
        hall = load_hall_profile(DEMO / "hall.yaml")
        devices = load_devices(DEMO / "devices.yaml", hall)
        secret = root / "secret"
        broker = BrokerProcess(render(hall, devices, secret, root / "broker", port=free_port())).start()
        try:
            db = f"sqlite:///{root}/bench.db"
            upgrade(db)
            settings = Settings(
                database_url=db, identity_key="b" * 32, secret_dir=secret, broker_host=broker.host,
                broker_port=broker.port,
            )  # fmt: skip
            yield LoopbackHall(root, hall, devices, secret, broker, settings)
        finally:
            broker.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
