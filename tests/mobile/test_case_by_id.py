"""Issue 16 part 5: a citizen's own cases on the phone by ID number and a one-time SMS code, in headless
Chromium at 375x812. The code goes out through the real SMPP client to the SMSC simulator; the page answers
the same for an unknown ID, an ID without a number and an ID with one; codes are limited per ID and per
client, live 5 minutes, allow 5 tries and open the list once. Screenshots: /tmp/hallq-mobile/."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from hallserver.mobile.case_by_id import mask_serial
from hallserver.notify.smpp import SmppAccount, SmppChannel
from hallserver.notify.smsc_sim import SmscSimulator
from hallserver.notify.worker import Notifier
from hallserver.services import case_lookup_code
from hallserver.services.notify.outbox import Policy
from tests.conftest import login
from tests.integration.helpers import id_number
from tests.mobile.conftest import API, Phone

OWNER = id_number(71)  # has a case and left a phone number at the window
NO_PHONE = id_number(72)  # has a case, no number
STRANGER = id_number(73)  # never came
PHONE_NO = "13700137071"


@pytest.fixture(scope="module")
def sms(phone: Phone) -> Iterator[tuple[SmscSimulator, Notifier]]:
    """The SMSC simulator and a notifier sending the hall's outbox to it (rounds run by the test)."""
    sim = SmscSimulator(system_id="hallq", password="secret").start()
    channel = SmppChannel(SmppAccount("127.0.0.1", sim.port, "hallq", "secret", timeout_s=5))
    notifier = Notifier(phone.hall.ctx, phone.hall.engine, {"sms": channel}, policy=Policy(), base_url=phone.base_url)
    yield sim, notifier
    notifier.stop()
    sim.stop()


def _case_for(phone: Phone, id_no: str, name: str, with_phone: bool) -> str:
    phone.ticket({"method": "id_card", "id_number": id_no, "name": name})
    visit = phone.serve(outcome="受理")
    if with_phone:
        staff = login(phone.http, "s05")
        recorded = phone.http.post(
            f"{API}/visits/{visit['id']}/contact", json={"phone": PHONE_NO, "consent": True}, headers=staff
        )
        assert recorded.status_code == 201, recorded.text
    return str(visit["serial_no"])


def _send(sms: tuple[SmscSimulator, Notifier], expect: int = 0, timeout: float = 10) -> list[str]:
    """Run notifier rounds until the outbox is drained (and, with `expect`, until that many texts reached the
    SMSC or `timeout` passed); the texts the SMSC got meanwhile."""
    sim, notifier = sms
    before = len(sim.submitted)
    deadline = time.monotonic() + timeout
    rounds = [notifier.run_once(slow=False)]
    while len(sim.submitted) - before < expect and time.monotonic() < deadline:
        time.sleep(0.1)
        rounds.append(notifier.run_once(slow=False))
    texts = [m.text for m in sim.submitted[before:]]
    assert len(texts) >= expect, f"expected {expect} text(s) at the SMSC, rounds: {rounds}"
    return texts


def _ask(phone: Phone, id_no: str) -> None:
    phone.open("/m/case")
    phone.find("#id_number").send_keys(id_no)
    phone.find("#send-code").click()
    assert case_lookup_code.SENT in phone.find("#sent").text


def test_own_cases_by_id_and_sms_code(phone: Phone, sms: tuple[SmscSimulator, Notifier]) -> None:
    serial = _case_for(phone, OWNER, "周小芳", with_phone=True)
    _case_for(phone, NO_PHONE, "吴小刚", with_phone=False)
    _send(sms)  # whatever the visits queued so far

    _ask(phone, OWNER)
    phone.fits()
    phone.screenshot("case-id-code")
    (text,) = _send(sms, expect=1)
    assert sms[0].submitted[-1].destination.endswith(PHONE_NO)
    code = re.search(r"验证码为(\d{6})", text)
    assert code, text
    assert OWNER not in text and "5分钟内有效" in text
    wrong = f"{(int(code.group(1)) + 1) % 10**6:06d}"
    phone.find("#code").send_keys(wrong)
    phone.find("#verify").click()
    assert "还可输入4次" in phone.find("#error").text
    spent_ref = str(phone.driver.find_element("name", "ref").get_attribute("value"))
    phone.find("#code").send_keys(code.group(1))
    phone.find("#verify").click()
    listed = phone.find("#cases").text
    assert "居住证申领" in listed and mask_serial(serial) in listed
    source = phone.driver.page_source
    assert serial not in source and "周小芳" not in source and OWNER not in source and PHONE_NO not in source
    phone.fits()
    phone.screenshot("case-id-list")
    again = phone.http.post("/m/case/id/verify", data={"ref": spent_ref, "code": code.group(1)})
    assert again.status_code == 410 and case_lookup_code.EXPIRED in again.text  # the lookup is spent

    # No number on file, or an ID never seen: the very same page, and no message goes anywhere.
    for who in (NO_PHONE, STRANGER):
        _ask(phone, who)
        assert _send(sms) == []
        phone.find("#code").send_keys("123456")
        phone.find("#verify").click()
        assert case_lookup_code.WRONG in phone.find("#error").text


def test_codes_are_limited_expire_and_allow_five_tries(phone: Phone, sms: tuple[SmscSimulator, Notifier]) -> None:
    http = phone.http
    refused = http.post("/m/case/id", data={"id_number": "44030519900101123"})
    assert refused.status_code == 400 and "证件号码应为18位" in refused.text

    def ask(id_no: str) -> tuple[int, str]:
        answer = http.post("/m/case/id", data={"id_number": id_no})
        ref = re.search(r'name="ref" value="([^"]+)"', answer.text)
        return answer.status_code, ref.group(1) if ref else ""

    who = id_number(74)
    _case_for(phone, who, "郑小东", with_phone=False)
    status, ref = ask(who)
    assert status == 200
    for left in (4, 3, 2, 1):
        wrong = http.post("/m/case/id/verify", data={"ref": ref, "code": "000000"})
        assert wrong.status_code == 400 and f"还可输入{left}次" in wrong.text
    fifth = http.post("/m/case/id/verify", data={"ref": ref, "code": "000000"})
    assert fifth.status_code == 429 and case_lookup_code.USED_UP in fifth.text
    assert ask(who)[0] == 200
    assert ask(who)[0] == 200
    limited = http.post("/m/case/id", data={"id_number": who})  # a 4th code for the same ID in 30 minutes
    assert limited.status_code == 429 and case_lookup_code.TOO_MANY in limited.text

    # A code lives five minutes.
    _, ref = ask(STRANGER)
    phone.clock.advance(minutes=6)
    late = http.post("/m/case/id/verify", data={"ref": ref, "code": "000000"})
    assert late.status_code == 410 and case_lookup_code.EXPIRED in late.text
    # Per client: ten codes an hour from one address, whatever the IDs.
    statuses = [http.post("/m/case/id", data={"id_number": id_number(80 + i)}).status_code for i in range(10)]
    assert 429 in statuses and statuses[0] == 200
    assert _send(sms) == []  # none of these IDs has a number: nothing was sent
