"""Kiosk fixtures: a kiosk's device setup on the `bus` fixture, its printer (a real agent on the byte-level
simulator), and the offscreen Kivy stage for UI tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_config.devices import KioskProfile
from kiosk.printer.agent import PrinterAgent
from kiosk.printer.simulator import PrinterSimulator
from kiosk.terminal.service import KioskService
from kiosk.ui.device import DeviceSetup
from tests.gateway.fixtures import Bus
from tests.printer.conftest import bus_settings, printer_profile
from tests.ui.helpers import device_bus
from tests.ui.stage import stage

__all__ = ["kiosk_printer", "stage"]


def kiosk_setup(bus: Bus, device_id: str = "kiosk-01", **changes: object) -> DeviceSetup:
    """The device setup `hallq kiosk` would load, logged in to the test broker."""
    profile = bus.devices.get(device_id)
    assert isinstance(profile, KioskProfile)
    return DeviceSetup(
        profile.model_copy(update=changes), device_bus(bus, device_id), bus.hall.hall.name, bus.hall, bus.devices
    )


@pytest.fixture
def kiosk_service(bus: Bus) -> Iterator[KioskService]:
    """kiosk-01's bus service (no screen), connected."""
    setup = kiosk_setup(bus)
    service = KioskService(setup.profile, setup.bus, bus.clock.now)  # type: ignore[arg-type]
    service.start(wait_s=5)
    assert service.bus.wait_connected(5)
    yield service
    service.stop()


@pytest.fixture
def kiosk_printer(bus: Bus, tmp_path: Path) -> Iterator[tuple[PrinterAgent, PrinterSimulator]]:
    """printer-kiosk-01: a real agent on the TCP printer simulator, polling status every second."""
    with PrinterSimulator(port=0) as sim:
        profile = printer_profile(bus.broker, "printer-kiosk-01", sim.port, poll_s=1)
        agent = PrinterAgent(
            profile, bus_settings(bus.broker, "printer-kiosk-01"), tmp_path / "printer-state", status_timeout_s=0.5
        )
        agent.start()
        assert agent.bus.wait_connected(5) and agent.ready.wait(5)
        bus.wait_online("printer-kiosk-01")
        try:
            yield agent, sim
        finally:
            agent.stop()
