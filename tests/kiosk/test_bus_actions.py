"""The kiosk's contract extensions (v1.2) end to end on a real broker and hall server, through the kiosk's
own bus service: guide.print prints the checklist, visit.recent lists a person's visits to rate, and
assist.request reaches the staff's list."""

from __future__ import annotations

import time

import pytest

from kiosk.printer.agent import PrinterAgent
from kiosk.printer.decoder import decode
from kiosk.printer.simulator import PrinterSimulator
from kiosk.terminal.service import KioskError, KioskService
from tests.gateway.fixtures import Bus
from tests.integration.helpers import id_number
from tests.ui.helpers import serve

RESIDENCE = "11440300MB2D41730K000172102000000"


def test_guide_print_prints_the_checklist(
    bus: Bus, kiosk_service: KioskService, kiosk_printer: tuple[PrinterAgent, PrinterSimulator]
) -> None:
    _, sim = kiosk_printer
    data = kiosk_service.request("guide.print", item_code=RESIDENCE)
    assert data["print_job_id"] and data["print_error"] is None and data["item_name"] == "居住证申领"
    assert sim.wait_for(lambda s: len(s.documents()) >= 1, timeout=10)
    printed = decode(sim.documents()[-1])
    text = "\n".join(printed.lines)
    assert "办事材料清单" in text and "居住证申领" in text and "所需材料" in text
    assert printed.qr_codes[0] == f"http://hall.test:8000/m/guide/{RESIDENCE}"
    with pytest.raises(KioskError) as refused:
        kiosk_service.request("guide.print", item_code="NO-SUCH-ITEM")
    assert refused.value.code == "unknown_item"


def test_recent_visits_then_rate_one(bus: Bus, kiosk_service: KioskService) -> None:
    person = {"id_number": id_number(5), "name": "张小三", "method": "id_card"}
    issued = kiosk_service.request("ticket.issue", group="police", identity=person)
    serve(bus, "w01")
    visits = kiosk_service.request("visit.recent", identity=person)["visits"]
    assert [(v["ticket"], v["rated"]) for v in visits] == [(issued["ticket"], False)]
    assert visits[0]["window_name"] == "1号窗口" and "张" not in str(visits)
    checked = kiosk_service.request("visit.check", visit_id=visits[0]["visit_id"], identity=person)
    assert checked["window_name"] == "1号窗口" and checked["rated"] is False
    rated = kiosk_service.request(
        "evaluation.submit", visit_id=visits[0]["visit_id"], level=5, channel="kiosk", identity=person
    )
    assert rated["is_bad"] is False
    assert kiosk_service.request("visit.recent", identity=person)["visits"][0]["rated"] is True
    stranger = {"id_number": id_number(6), "method": "id_card"}
    assert kiosk_service.request("visit.recent", identity=stranger) == {"visits": []}


def test_assist_request_reaches_the_staff_list(bus: Bus, kiosk_service: KioskService) -> None:
    data = kiosk_service.request("assist.request", reason="老年人需要帮助", screen="home", elderly=True)
    assert data["assist_id"] and "工作人员" in data["message"]
    listed = bus.http.get("/api/v1/assist-requests").json()
    assert listed[0]["device_id"] == "kiosk-01" and listed[0]["location"] == "一楼大厅入口"
    assert listed[0]["elderly"] is True and listed[0]["acknowledged_by"] is None
    taken = bus.http.post(f"/api/v1/assist-requests/{listed[0]['id']}/ack").json()
    assert taken["acknowledged_by"] == "m01"
    assert bus.http.get("/api/v1/assist-requests", params={"open_only": True}).json() == []


def test_server_going_offline_is_noticed_at_once(bus: Bus, kiosk_service: KioskService) -> None:
    assert kiosk_service.online and kiosk_service.offline_reason is None
    bus.gateway.client.stop()  # the server says offline on its availability topic (its will, when it crashes)
    deadline = time.monotonic() + 5
    while kiosk_service.online and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not kiosk_service.online and kiosk_service.offline_reason == "大厅服务器暂时离线"
    with pytest.raises(KioskError) as refused:
        kiosk_service.request("ticket.issue", group="consult")
    assert refused.value.code == "unavailable" and "大厅服务器暂时离线" in refused.value.message
