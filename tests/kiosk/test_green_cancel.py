"""绿色通道 withdrawn at the kiosk (green.cancel) on a real broker and hall server: the citizen who asked taps
不用了，取消请求 (or 首页) on the waiting screen; the request and its 呼叫 alert leave the staff's list. Only the
kiosk that asked may withdraw it, only kiosks may send the action at all, and a request staff already
answered stays answered."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.terminal.service import KioskError, KioskService
from tests.gateway.fixtures import Bus
from tests.integration.helpers import id_number
from tests.kiosk.conftest import kiosk_setup
from tests.kiosk.driver import PORTRAIT, KioskDriver
from tests.ui.stage import Stage


def _ask(service: KioskService, n: int, reason: str = "残疾人") -> dict[str, object]:
    person = {"id_number": id_number(n), "name": "欧阳小明", "method": "id_card"}
    return service.request("green.request", reason=reason, identity=person)


def _open_assists(bus: Bus) -> list[dict[str, object]]:
    listed: list[dict[str, object]] = bus.http.get("/api/v1/assist-requests", params={"open_only": True}).json()
    return listed


def test_the_kiosk_that_asked_withdraws_its_request(bus: Bus, kiosk_service: KioskService) -> None:
    asked = _ask(kiosk_service, 41)
    assert [r["id"] for r in bus.http.get("/api/v1/green-requests").json()] == [asked["green_id"]]
    assert len(_open_assists(bus)) == 1

    other = KioskService(kiosk_setup(bus, "kiosk-02").profile, kiosk_setup(bus, "kiosk-02").bus, bus.clock.now)  # type: ignore[arg-type]
    other.start(wait_s=5)
    try:
        with pytest.raises(KioskError) as refused:
            other.request("green.cancel", green_id=asked["green_id"])
        assert refused.value.code == "not_found"  # another kiosk's request is not its to withdraw
    finally:
        other.stop()
    assert len(bus.http.get("/api/v1/green-requests").json()) == 1

    done = kiosk_service.request("green.cancel", green_id=asked["green_id"])
    assert done["cancelled"] is True and "取消" in done["message"]
    assert bus.http.get("/api/v1/green-requests").json() == []
    assert _open_assists(bus) == []  # the floor's 呼叫 alert is gone too
    assert bus.http.get("/api/v1/assist-requests").json()[0]["acknowledged_by"] == "群众已取消"
    late = bus.http.post(f"/api/v1/green-requests/{asked['green_id']}/confirm")
    assert late.status_code == 404  # staff can no longer issue a ticket nobody waits for
    again = kiosk_service.request("green.cancel", green_id=asked["green_id"])
    assert again["cancelled"] is False  # nothing left to withdraw: no error, the kiosk just stops waiting


def test_a_request_staff_answered_is_not_undone(bus: Bus, kiosk_service: KioskService) -> None:
    asked = _ask(kiosk_service, 42, "孕妇")
    assert bus.http.post(f"/api/v1/green-requests/{asked['green_id']}/decline").status_code == 200
    assert kiosk_service.request("green.cancel", green_id=asked["green_id"])["cancelled"] is False
    assert bus.http.get("/api/v1/assist-requests").json()[0]["acknowledged_by"] == "m01"


def test_only_kiosks_may_send_green_cancel(bus: Bus) -> None:
    """The generated ACL: a window caller's green.cancel never reaches the server."""
    from broker.client import BusTimeout
    from broker.messages import GreenCancel, Request

    caller, _ = bus.device("caller-w01")
    request = GreenCancel(ts=bus.clock.now(), request_id=Request.new_id(), green_id=1)
    with pytest.raises(BusTimeout):
        caller.request("green.cancel", request, timeout_s=1.0, attempts=1)


def test_cancel_on_the_waiting_screen_by_touch(bus: Bus, stage: Stage, tmp_path: Path) -> None:
    kiosk = KioskDriver(bus, stage, tmp_path, PORTRAIT, "green-cancel")
    try:
        kiosk.tap("绿色通道")
        kiosk.screen("green")
        kiosk.tap("残疾人")
        kiosk.screen("identity")
        kiosk.swipe("resident")
        kiosk.until(lambda: kiosk.shows("直接继续"), "the card to be read", timeout=15)
        kiosk.tap("直接继续")  # face check-in is offered, never required
        kiosk.screen("green_wait")
        assert kiosk.shows("已通知工作人员") and kiosk.shows("不用了，取消请求")
        (pending,) = bus.http.get("/api/v1/green-requests").json()
        assert pending["device_id"] == "kiosk-01" and pending["reason"] == "残疾人"
        kiosk.shot("green-wait")
        kiosk.tap("不用了，取消请求")
        kiosk.screen("home")
        assert kiosk.state.person is None  # the card's holder left the screen
        kiosk.until(lambda: bus.http.get("/api/v1/green-requests").json() == [], "the request to be withdrawn")
        assert _open_assists(bus) == []
    finally:
        kiosk.close()
