"""绿色通道 staff confirmation end to end on a real broker and hall server, through the kiosk's own bus service:
green.request waits for staff; confirm issues the L ticket for the card read at the kiosk, sends it to that
kiosk and prints it there; decline tells the kiosk why; nobody answering in time expires the request; only
floor staff may act, and the console never sees more than a masked name."""

from __future__ import annotations

import queue

import pytest

from broker.messages import DeviceNotice
from kiosk.printer.agent import PrinterAgent
from kiosk.printer.decoder import decode
from kiosk.printer.simulator import PrinterSimulator
from kiosk.terminal.service import KioskError, KioskService
from tests.conftest import login
from tests.gateway.fixtures import Bus
from tests.integration.helpers import id_number


def _notices(service: KioskService) -> queue.Queue[DeviceNotice]:
    box: queue.Queue[DeviceNotice] = queue.Queue()
    service.on_notice = box.put
    return box


def _ask(service: KioskService, n: int = 31, reason: str = "残疾人") -> tuple[dict[str, object], str]:
    number = id_number(n)
    person = {"id_number": number, "name": "欧阳小明", "method": "id_card"}
    return service.request("green.request", reason=reason, identity=person), number


def test_staff_confirm_sends_the_green_ticket_to_the_kiosk(
    bus: Bus, kiosk_service: KioskService, kiosk_printer: tuple[PrinterAgent, PrinterSimulator]
) -> None:
    _, sim = kiosk_printer
    notices = _notices(kiosk_service)
    asked, number = _ask(kiosk_service)
    assert asked["green_id"] and asked["assist_id"] and "稍候" in str(asked["message"])
    listed = bus.http.get("/api/v1/green-requests")
    assert listed.status_code == 200
    (pending,) = listed.json()
    assert pending["device_id"] == "kiosk-01" and pending["reason"] == "残疾人"
    assert pending["masked_name"] == "欧**明" and number not in listed.text and "欧阳小明" not in listed.text
    assist = bus.http.get("/api/v1/assist-requests").json()
    assert assist[0]["reason"] == "绿色通道核实：残疾人" and number not in str(assist)

    done = bus.http.post(f"/api/v1/green-requests/{pending['id']}/confirm", json={})
    assert done.status_code == 200, done.text
    ticket = done.json()["ticket"]
    assert ticket.startswith("L") and done.json()["masked_name"] == "欧**明"
    notice = notices.get(timeout=5)
    assert notice.type == "green_confirmed" and notice.green_id == asked["green_id"] and notice.data
    assert notice.data["ticket"] == ticket and notice.data["print_job_id"] and ticket in notice.message
    assert sim.wait_for(lambda s: len(s.documents()) >= 1, timeout=10)
    assert ticket in "\n".join(decode(sim.documents()[-1]).lines)
    # handled once: a second confirm (another staff member, a double click) issues nothing
    again = bus.http.post(f"/api/v1/green-requests/{pending['id']}/confirm")
    assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"
    assert bus.http.get("/api/v1/green-requests").json() == []
    assert bus.http.get("/api/v1/assist-requests").json()[0]["acknowledged_by"] == "m01"


def test_decline_tells_the_kiosk_and_issues_nothing(bus: Bus, kiosk_service: KioskService) -> None:
    notices = _notices(kiosk_service)
    asked, _ = _ask(kiosk_service, 32, "孕妇")
    declined = bus.http.post(f"/api/v1/green-requests/{asked['green_id']}/decline")
    assert declined.status_code == 200, declined.text
    notice = notices.get(timeout=5)
    assert notice.type == "green_declined" and notice.data is None and "普通取号" in notice.message
    assert bus.http.get("/api/v1/green-requests").json() == []
    late = bus.http.post(f"/api/v1/green-requests/{asked['green_id']}/confirm")
    assert late.status_code == 404  # a declined request cannot be confirmed after all


def test_nobody_confirming_in_time_expires_the_request(bus: Bus, kiosk_service: KioskService) -> None:
    asked, _ = _ask(kiosk_service, 33)
    bus.clock.advance(minutes=4)
    late = bus.http.post(f"/api/v1/green-requests/{asked['green_id']}/confirm")
    assert late.status_code == 409 and late.json()["error"]["code"] == "expired"
    assert "超时" in late.json()["error"]["message"]
    assert bus.http.get("/api/v1/green-requests").json() == []


def test_only_floor_staff_may_confirm(bus: Bus, kiosk_service: KioskService) -> None:
    asked, number = _ask(kiosk_service, 34)
    url = f"/api/v1/green-requests/{asked['green_id']}/confirm"
    admin = bus.http.post(url, headers=login(bus.http, "a01"))
    assert admin.status_code == 403 and admin.json()["error"]["code"] == "forbidden"
    nobody = bus.http.post(url, headers={"Authorization": "Bearer forged-token"})
    assert nobody.status_code == 401
    # the refusals left it pending; window staff on the floor may confirm it
    staff = bus.http.post(url, headers=login(bus.http, "s01"))
    assert staff.status_code == 200 and staff.json()["ticket"].startswith("L") and number not in staff.text


def test_a_malformed_green_request_is_refused(bus: Bus, kiosk_service: KioskService) -> None:
    with pytest.raises(KioskError) as refused:
        person = {"id_number": id_number(35), "method": "id_card"}
        kiosk_service.request("green.request", reason="想插队", identity=person)
    assert refused.value.code == "invalid"
    with pytest.raises(KioskError) as no_card:
        kiosk_service.request("green.request", reason="孕妇")
    assert no_card.value.code == "invalid"
    assert bus.http.get("/api/v1/green-requests").json() == []
