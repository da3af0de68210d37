"""complaint.submit over the real bus: a kiosk records a complaint (the channel and device come from the
topic); bad input gets a Chinese error; the broker refuses the action from any other kind of device, and
the gateway would too."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from broker.messages import ComplaintSubmitRequest, Request
from hallcore.errors import HallError
from hallserver.db import session_scope
from hallserver.services import complaints
from tests.bus.fixtures import HallBroker, Probe
from tests.gateway.fixtures import Bus
from tests.gateway.test_gateway import time_now
from tests.notify.conftest import all_text

NO_SUBSCRIBERS, NOT_AUTHORIZED = 16, 135
PHONE = "13700001111"


def _submit(**kw: object) -> ComplaintSubmitRequest:
    return ComplaintSubmitRequest(ts=time_now(), request_id=Request.new_id(), **kw)  # type: ignore[arg-type]


def test_a_kiosk_submits_a_complaint(bus: Bus, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    kiosk, _ = bus.device("kiosk-01")
    bad = kiosk.request("complaint.submit", _submit(kind="complaint", content="排队太久了", phone="123"))
    assert bad.status == "error" and bad.error is not None and bad.error.code == "invalid"
    assert "手机号码" in bad.error.message
    reply = kiosk.request(
        "complaint.submit",
        _submit(kind="cannot_do", content="营业执照变更在线上提交三次都被退回", phone=PHONE, device_id="kiosk-01"),
    )
    assert reply.status == "ok" and reply.data is not None, reply.error
    assert set(reply.data) == {"reference", "due", "message"} and PHONE not in str(reply.data)
    hall = bus.http.app.state.hall  # type: ignore[attr-defined]
    with session_scope(hall.engine) as s:
        c = complaints.get(s, reply.data["reference"])
        assert (c.channel, c.received_by, c.kind) == ("kiosk", "kiosk-01", "cannot_do")
        assert c.phone_masked == "137****1111" and c.phone_cipher and PHONE not in c.phone_cipher
    assert PHONE not in all_text(hall.engine)  # nor in the request log or anywhere else
    with pytest.raises(HallError) as caller:
        bus.gateway.handlers.authorize(
            bus.devices.get("caller-w03"), "complaint.submit", _submit(kind="complaint", content="五个字以上的内容")
        )
    assert caller.value.code == "forbidden"
    assert PHONE not in caplog.text


def test_other_devices_may_not_send_complaint_submit(broker: HallBroker, probe: Callable[..., Probe]) -> None:
    t = broker.topics
    assert probe(broker, "kiosk-03").publish(t.request("kiosk-03", "complaint.submit")) == NO_SUBSCRIBERS
    for device in ("caller-w03", "eval-w03", "display-w03", "printer-w03"):
        assert probe(broker, device).publish(t.request(device, "complaint.submit")) == NOT_AUTHORIZED, device
