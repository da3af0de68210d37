"""呼叫工作人员 after hours across the real parts: the 24-hour kiosk's flows over its own bus service, the hall
server on the real broker, the floor page in headless Chromium. At 22:00 with no floor console open the kiosk
shows the 12345 hotline and the point's number and nobody is alerted (nothing recorded); with a manager's
floor page open the same tap raises the 呼叫 alert there and the kiosk says the duty staff were told."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from firmware_config.hall import load_hall_profile
from kiosk.terminal.catalog import CatalogCache
from kiosk.terminal.flows import KioskFlows
from kiosk.terminal.hall import HallFacts
from kiosk.terminal.service import KioskService
from kiosk.terminal.session import KioskSession
from tests.conftest import local
from tests.console.conftest import Console
from tests.kiosk.conftest import kiosk_setup
from tests.kiosk.fakes import DEMO_HALL

KIOSK = "kiosk-24h-01"


@pytest.fixture
def night_kiosk(console: Console, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KioskFlows]:
    """The 24-hour point's kiosk at 22:00 on a working Monday, its flows over its real bus service."""
    bus = console.hall.bus
    bus.clock.set(local(2026, 11, 23, 22, 0))
    setup = kiosk_setup(bus, KIOSK)
    service = KioskService(setup.profile, setup.bus, bus.clock.now)  # type: ignore[arg-type]
    service.start(wait_s=5)
    assert service.bus.wait_connected(5)
    cache = CatalogCache(tmp_path_factory.mktemp("kiosk") / "catalog.json", DEMO_HALL / "catalog")
    cache.load()
    facts = HallFacts.from_profile(load_hall_profile(DEMO_HALL / "hall.yaml"))
    yield KioskFlows(KioskSession(60), service, setup.profile, facts, cache, bus.clock.now)  # type: ignore[arg-type]
    service.stop()


def test_after_hours_call_staff_alerts_only_a_staffed_console(console: Console, night_kiosk: KioskFlows) -> None:
    bus = console.hall.bus
    bus.http.headers.update(console.hall.headers("m01"))  # a login of tonight (the clock moved on)
    assert not night_kiosk.is_open()
    night_kiosk.call_staff()  # nobody has the floor open at 22:00
    assert night_kiosk.state.screen == "assist"
    assert night_kiosk.state.result == {"after_hours": True, "staffed": False}
    assert bus.http.get("/api/v1/assist-requests").json() == []  # no alert for an empty console

    night_kiosk.home()
    console.login("m01", then="/console/floor")  # the duty manager opens the floor (its live stream)
    console.ready()
    deadline = time.monotonic() + 10
    while not bus.gateway.assist.staffed() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert bus.gateway.assist.staffed()
    night_kiosk.call_staff()
    assert night_kiosk.state.result == {"after_hours": True, "staffed": True}
    alert = console.wait_text("#alerts", "24小时自助区终端呼叫工作人员")  # pushed to the open page
    assert "24小时自助区" in alert
    (call,) = bus.http.get("/api/v1/assist-requests").json()
    assert call["device_id"] == KIOSK and call["screen"] == "home"
    console.screenshot("floor-after-hours-assist")
    assert not [line for line in console.log() if "SEVERE" in line]
