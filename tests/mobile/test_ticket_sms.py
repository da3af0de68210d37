"""Issue 16 part 4 on the phone: under a waiting ticket's live position a citizen leaves a number with the
consent line, in headless Chromium at 375x812. A bad number and a missing consent are refused in Chinese;
the number is shown and kept only masked/encrypted, and the ticket's near-turn message is queued for it."""

from __future__ import annotations

from sqlmodel import select

from hallserver.db import session_scope
from hallserver.models import Contact, OutboxMessage, Subscription
from hallserver.services.notify import triggers
from hallserver.services.notify.triggers import TriggerRules
from tests.integration.helpers import id_number
from tests.mobile.conftest import Phone

NUMBER = "13500135081"


def test_a_number_for_the_ticket_with_consent(phone: Phone) -> None:
    phone.ticket({"method": "id_card", "id_number": id_number(81), "name": "冯一"})
    mine = phone.ticket({"method": "id_card", "id_number": id_number(82), "name": "冯二"})
    phone.driver.get(mine["lookup_url"])
    phone.find("#sms-link").click()
    phone.fits()
    phone.find("#phone").send_keys("1350013")
    phone.find("#consent").click()
    phone.find("#notify").click()
    assert "手机号码应为11位" in phone.find("#error").text
    phone.find("#phone").send_keys(NUMBER)  # the form comes back empty: the number is typed again
    phone.find("#notify").click()  # consent not ticked this time
    assert "需经本人同意" in phone.find("#error").text
    phone.find("#phone").send_keys(NUMBER)
    phone.find("#consent").click()
    phone.screenshot("ticket-sms-form")
    phone.find("#notify").click()
    assert "135****5081" in phone.find("#done").text and NUMBER not in phone.driver.page_source
    phone.screenshot("ticket-sms-done")

    hall = phone.hall
    with session_scope(hall.engine) as s:
        contact = s.exec(select(Contact).where(Contact.masked_phone == "135****5081")).one()
        assert contact.consent_channel == "phone" and NUMBER not in contact.phone_cipher
        subjects = s.exec(select(Subscription.subject).where(Subscription.contact_id == contact.id)).all()
        assert len(subjects) == 1 and subjects[0].startswith("ticket:")
        triggers.near_turn(s, hall.ctx, TriggerRules(near_turn=3))
        queued = s.exec(select(OutboxMessage).where(OutboxMessage.contact_id == contact.id)).all()
        assert [m.template for m in queued] == ["near_turn"]


def test_only_a_waiting_ticket_takes_a_number(phone: Phone) -> None:
    done = phone.ticket({"method": "id_card", "id_number": id_number(83), "name": "冯三"})
    token = done["lookup_url"].rsplit("/", 1)[1]
    for _ in range(10):  # serve everyone, this ticket included
        if phone.http.post("/api/v1/windows/w05/call-next").json().get("ticket") is None:
            break
        phone.http.post("/api/v1/windows/w05/start")
        phone.http.post("/api/v1/windows/w05/finish", json={"outcome": "咨询"})
    refused = phone.http.post(f"/m/t/{token}/notify", data={"phone": NUMBER, "consent": "1"})
    assert refused.status_code == 409 and "已不在排队中" in refused.text
    assert phone.http.post("/m/t/not-a-real-token/notify", data={"phone": NUMBER, "consent": "1"}).status_code == 404
