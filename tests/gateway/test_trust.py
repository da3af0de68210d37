"""Contract v2 at the device boundary: the topic proves the sender, idempotency is per device, the same
window action does the same on the bus as on REST, and a device's offline is always honoured."""

from __future__ import annotations

import json
import logging

import pytest

from broker.client import BusClient
from broker.messages import EvaluationSubmit, ProgressQuery, Request, TicketIssue, WindowAction
from kiosk.printer.decoder import decode
from kiosk.printer.layout import render
from tests.gateway.fixtures import Bus
from tests.gateway.test_gateway import ticket_count, time_now
from tests.integration.helpers import id_number

ITEM = "11440300MB2D41730K000172102000000"  # 居住证申领, queued in police (A)


def _window(window: str, **kw: object) -> WindowAction:
    return WindowAction(ts=time_now(), request_id=Request.new_id(), window_id=window, **kw)  # type: ignore[arg-type]


def _ticket(**kw: object) -> TicketIssue:
    return TicketIssue(ts=time_now(), request_id=Request.new_id(), **kw)  # type: ignore[arg-type]


def test_a_payload_naming_another_device_is_forbidden(bus: Bus) -> None:
    # The v1 attack: logged in as caller-w01, acting for caller-w16 on window 16.
    caller, _ = bus.device("caller-w01")
    forged = caller.request("window.pause", _window("w16", device_id="caller-w16", reason="x"))
    assert forged.status == "error" and forged.error is not None and forged.error.code == "forbidden"
    other_window = caller.request("window.pause", _window("w16", reason="x"))
    assert other_window.error is not None and other_window.error.code == "forbidden"
    assert bus.http.get("/api/v1/windows/w16").json()["status"] == "open"
    kiosk, _ = bus.device("kiosk-02")
    as_kiosk_03 = kiosk.request("ticket.issue", _ticket(group="consult", device_id="kiosk-03"))
    assert as_kiosk_03.error is not None and as_kiosk_03.error.code == "forbidden"
    assert "kiosk-02" in as_kiosk_03.error.message
    assert ticket_count(bus) == 0
    own = kiosk.request("ticket.issue", _ticket(group="consult", device_id="kiosk-02"))  # legacy, but true
    assert own.status == "ok"


def test_the_same_request_id_from_two_devices_is_two_requests(bus: Bus) -> None:
    request = _ticket(group="consult")
    kiosk2, _ = bus.device("kiosk-02")
    kiosk3, _ = bus.device("kiosk-03")
    first = kiosk2.request("ticket.issue", request)
    second = kiosk3.request("ticket.issue", request)
    assert first.data is not None and second.data is not None
    assert first.data["ticket"] == "G001" and second.data["ticket"] == "G002"
    again = kiosk3.request("ticket.issue", request)  # kiosk-03's retry: its own first answer
    assert again.data is not None and again.data["ticket"] == "G002"
    assert ticket_count(bus) == 2


def test_every_refusal_reaches_the_sender_even_for_a_huge_visit_id(bus: Bus) -> None:
    evaluator, _ = bus.device("eval-w05")
    raw = EvaluationSubmit.model_construct(ts=time_now(), request_id=Request.new_id(), visit_id=2**70, level=5)
    reply = evaluator.request("evaluation.submit", raw)
    assert reply.status == "error" and reply.error is not None and reply.error.code == "invalid"
    assert "visit_id" in reply.error.message


def test_window_finish_over_the_bus_prints_the_receipt_as_rest_does(bus: Bus) -> None:
    _, jobs = bus.device("printer-w05", bus.topics.device("printer-w05", "job"), replies=False)
    _, display = bus.device("display-w05", bus.topics.window_state("w05"), replies=False)
    kiosk, _ = bus.device("kiosk-01")
    issued = kiosk.request(
        "ticket.issue",
        _ticket(item_code=ITEM, identity={"method": "id_card", "id_number": id_number(7), "name": "张小三"}),
    )
    assert issued.status == "ok", issued.error
    caller, _ = bus.device("caller-w05")
    caller.request("window.call_next", _window("w05"))
    called = display.wait_for(lambda t, p: p is not None and p["phase"] == "called")
    assert called is not None and called["serving"] == "A001" and called["called_at"]
    caller.request("window.start", _window("w05"))
    serving = display.wait_for(lambda t, p: p is not None and p["phase"] == "serving")
    assert serving is not None and serving["called_at"] == called["called_at"]
    done = caller.request("window.finish", _window("w05", outcome="受理"))
    assert done.status == "ok" and done.data is not None, done.error
    printed = done.data["printed"]
    assert printed["kind"] == "receipt" and printed["printer"] == "printer-w05" and printed["error"] is None
    job = jobs.wait_for(lambda t, p: p is not None and p["job_id"] == printed["job_id"])
    assert job is not None and job["kind"] == "receipt"
    text = "".join(line.strip() for line in decode(render("receipt", job["document"])).lines)
    assert "受理凭证" in text and job["document"]["serial_no"] in text and "张*三" in text
    idle = display.wait_for(lambda t, p: p is not None and p["serving"] is None)
    assert idle is not None and idle["phase"] is None and idle["called_at"] is None


def test_an_offline_availability_is_honoured_without_version(bus: Bus, caplog: pytest.LogCaptureFixture) -> None:
    kiosk, _ = bus.device("kiosk-03")
    _settle(kiosk)
    assert bus.gateway.seen["kiosk-03"].online
    topic = bus.topics.device("kiosk-03", "availability")
    kiosk.mqtt.publish(topic, json.dumps({"state": "offline"}), qos=1, retain=True).wait_for_publish(5)
    _settle(kiosk)
    assert not bus.gateway.seen["kiosk-03"].online
    row = next(d for d in bus.http.get("/api/v1/devices").json() if d["id"] == "kiosk-03")
    assert row["online"] is False

    caplog.set_level(logging.WARNING)
    old = {"ts": time_now().isoformat(), "state": "online", "kind": "kiosk", "version": "1"}
    kiosk.mqtt.publish(topic, json.dumps(old), qos=1, retain=True).wait_for_publish(5)
    _settle(kiosk)
    row = next(d for d in bus.http.get("/api/v1/devices").json() if d["id"] == "kiosk-03")
    assert row["online"] is True and row["contract_current"] is False
    assert any("kiosk-03 speaks contract 1" in r.getMessage() for r in caplog.records)
    current = next(d for d in bus.http.get("/api/v1/devices").json() if d["id"] == "kiosk-01")
    assert current["contract_current"] in (True, None)


def _settle(device: BusClient) -> None:
    """Availability is handled as it arrives; a later request from the same device is handled after it."""
    reply = device.request("progress.query", ProgressQuery(ts=time_now(), request_id=Request.new_id(), serial_no="X"))
    assert reply.status in ("ok", "error")
