"""绿色通道 staff confirmation across the real parts: a kiosk (its flows over its own bus service on the real
broker) asks for the green channel for a reason staff must check; the manager on the floor page in headless
Chromium sees the request with a masked name only, declines one (the kiosk explains and offers a normal
ticket) and confirms the next (the kiosk shows the L ticket the server issued for the card it read)."""

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
from tests.console.conftest import Console
from tests.kiosk.conftest import kiosk_setup
from tests.kiosk.fakes import DEMO_HALL, PERSON_ID, PERSON_NAME, Card


@pytest.fixture
def kiosk(console: Console, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KioskFlows]:
    """kiosk-01's flows over its real bus service; notices handled as the app does (here on the MQTT thread)."""
    bus = console.hall.bus
    setup = kiosk_setup(bus)
    service = KioskService(setup.profile, setup.bus, bus.clock.now)  # type: ignore[arg-type]
    service.start(wait_s=5)
    assert service.bus.wait_connected(5)
    cache = CatalogCache(tmp_path_factory.mktemp("kiosk") / "catalog.json", DEMO_HALL / "catalog")
    cache.load()
    facts = HallFacts.from_profile(load_hall_profile(DEMO_HALL / "hall.yaml"))
    flows = KioskFlows(KioskSession(60), service, setup.profile, facts, cache, bus.clock.now)
    service.on_notice = flows.on_device_notice
    yield flows
    service.stop()


def _ask(flows: KioskFlows, reason: str) -> None:
    flows.start("green")
    flows.choose_green(reason)
    flows.card_presented(Card())
    assert flows.state.screen == "green_wait", flows.state.error


def _until(check: object, message: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.05)
    assert check(), message  # type: ignore[operator]


def test_floor_staff_decline_then_confirm_reach_the_kiosk(console: Console, kiosk: KioskFlows) -> None:
    _ask(kiosk, "孕妇")
    console.login("m01", then="/console/floor")
    console.ready()
    item = console.wait_text("#green-requests", "孕妇")
    assert "一楼大厅1号自助机" in item and "李*试" in item
    page = console.driver.page_source
    assert PERSON_NAME not in page and PERSON_ID not in page and PERSON_ID[-6:] not in page
    console.screenshot("floor-green")
    console.find("#green-requests .green-decline").click()
    _until(lambda: (kiosk.state.result or {}).get("outcome"), "the kiosk heard no decline")
    assert kiosk.state.screen == "green_wait" and "普通取号" in kiosk.state.result["outcome"]  # type: ignore[index]
    console.wait_text("#green-requests", "暂无待核实请求")

    kiosk.session.wipe()  # the next citizen (the same card, for brevity) asks for another reason
    _ask(kiosk, "残疾人")
    console.wait_text("#green-requests", "残疾人")  # arrives without a reload (the floor's alerts stream)
    console.find("#green-requests .green-confirm").click()
    _until(lambda: kiosk.state.screen == "ticket", "the kiosk did not show the confirmed ticket")
    ticket = (kiosk.state.result or {}).get("ticket", "")
    assert ticket.startswith("L") and (kiosk.state.result or {}).get("masked_name") == "李*试"
    console.wait_text("#green-requests", "暂无待核实请求")
    assert not [line for line in console.log() if "SEVERE" in line]


def test_a_request_withdrawn_at_the_kiosk_leaves_the_floor_panel(console: Console, kiosk: KioskFlows) -> None:
    _ask(kiosk, "行动不便")
    console.login("m01", then="/console/floor")
    console.ready()
    console.wait_text("#green-requests", "行动不便")
    kiosk.home()  # 首页 (or 不用了，取消请求) on the waiting screen: green.cancel
    assert kiosk.state.screen == "home" and kiosk.state.person is None
    console.wait_text("#green-requests", "暂无待核实请求")  # dropped without a reload (the alerts stream)
    assert console.find("#green-count").text == "0"
    assert not [line for line in console.log() if "SEVERE" in line]
