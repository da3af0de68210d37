"""contact.consent over the real bus: a kiosk records the number for the ticket it just issued; the broker
refuses the action from any other kind of device, and the gateway would too."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import select

from broker.messages import ContactConsentRequest, Request, TicketIssue
from hallcore.errors import HallError
from hallserver.db import session_scope
from hallserver.models import Contact, Subscription
from tests.bus.fixtures import HallBroker, Probe
from tests.gateway.fixtures import Bus
from tests.gateway.test_gateway import time_now
from tests.integration.helpers import id_number
from tests.notify.conftest import PHONE

NO_SUBSCRIBERS, NOT_AUTHORIZED = 16, 135


def _consent(**kw: object) -> ContactConsentRequest:
    return ContactConsentRequest(ts=time_now(), request_id=Request.new_id(), **kw)  # type: ignore[arg-type]


def test_a_kiosk_records_a_number_for_its_ticket(bus: Bus) -> None:
    kiosk, _ = bus.device("kiosk-01")
    issued = kiosk.request("ticket.issue", TicketIssue(ts=time_now(), request_id=Request.new_id(), group="consult"))
    assert issued.status == "ok" and issued.data is not None
    bad = kiosk.request("contact.consent", _consent(phone="1380013", consent=True, ticket=issued.data["ticket"]))
    assert bad.status == "error" and bad.error is not None and bad.error.code == "invalid"
    assert "手机号码应为11位" in bad.error.message
    reply = kiosk.request("contact.consent", _consent(phone=PHONE, consent=True, ticket=issued.data["ticket"]))
    assert reply.status == "ok" and reply.data is not None, reply.error
    assert reply.data["masked_phone"] == "138****8000" and reply.data["subjects"][0].startswith("ticket:")
    hall = bus.http.app.state.hall  # type: ignore[attr-defined]
    with session_scope(hall.engine) as s:
        contact = s.exec(select(Contact)).one()
        assert (contact.consent_channel, contact.consent_by) == ("kiosk", "kiosk-01")  # from the topic
        assert len(s.exec(select(Subscription)).all()) == 1


def test_a_real_name_ticket_needs_its_identity(bus: Bus) -> None:
    kiosk, _ = bus.device("kiosk-02")
    person = {"method": "id_card", "id_number": id_number(5), "name": "赵六"}
    issued = kiosk.request(
        "ticket.issue", TicketIssue(ts=time_now(), request_id=Request.new_id(), group="consult", identity=person)
    )
    assert issued.data is not None
    number = issued.data["ticket"]
    refused = kiosk.request("contact.consent", _consent(phone=PHONE, consent=True, ticket=number))
    assert refused.error is not None and refused.error.code == "forbidden"
    ok = kiosk.request("contact.consent", _consent(phone=PHONE, consent=True, ticket=number, identity=person))
    assert ok.status == "ok", ok.error
    # Behind the broker's ACL, the gateway refuses the action from a caller too.
    with pytest.raises(HallError) as caller:
        bus.gateway.handlers.authorize(
            bus.devices.get("caller-w03"), "contact.consent", _consent(phone=PHONE, consent=True)
        )
    assert caller.value.code == "forbidden"


def test_other_devices_may_not_send_contact_consent(broker: HallBroker, probe: Callable[..., Probe]) -> None:
    t = broker.topics
    assert probe(broker, "kiosk-03").publish(t.request("kiosk-03", "contact.consent")) == NO_SUBSCRIBERS
    for device in ("caller-w03", "eval-w03", "display-w03", "printer-w03"):
        assert probe(broker, device).publish(t.request(device, "contact.consent")) == NOT_AUTHORIZED, device
