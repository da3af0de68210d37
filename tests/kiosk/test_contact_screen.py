"""短信提醒（留手机号） at the kiosk (issue 16, part 4), offscreen over a real broker and hall server: after a
ticket (and after a booking) the citizen opens the phone-number screen, types on the keypad, gives consent and
submits; the server keeps the number hashed and encrypted with the consent, subscribed to that ticket or
booking, and the screen shows only the masked number. 同意并提交 stays disabled for an invalid number or
without consent; a refusal of the server is shown in Chinese with the number kept; leaving the screen or the
idle timeout clears the number."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from hallcore.contacts import phone_hash
from hallcore.identity import identity_hash
from hallserver.db import session_scope
from hallserver.models import Contact, Subscription
from tests.gateway.fixtures import Bus
from tests.kiosk.driver import LANDSCAPE, PORTRAIT, KioskDriver
from tests.kiosk.test_screens_access import DAY, Shown
from tests.ui.stage import Stage

PHONE = "13800138000"
RESIDENCE = "11440300MB2D41730K000172102000000"  # 居住证申领
CARD_ID = "110105198506141230"  # the simulator's "resident" identity
SUBMIT = "同意并提交"


@pytest.fixture
def kiosk(bus: Bus, stage: Stage, tmp_path: Path) -> Iterator[KioskDriver]:
    driver = KioskDriver(bus, stage, tmp_path, PORTRAIT, "contact")
    yield driver
    driver.close()


def _contacts(bus: Bus) -> list[tuple[Contact, list[str]]]:
    hall = bus.http.app.state.hall  # type: ignore[attr-defined]
    with session_scope(hall.engine) as s:
        found = []
        for contact in s.exec(select(Contact)).all():
            subjects = s.exec(select(Subscription.subject).where(Subscription.contact_id == contact.id)).all()
            s.expunge(contact)
            found.append((contact, list(subjects)))
        return found


def _submit_button(kiosk: KioskDriver) -> Any:
    (button,) = [w for w in kiosk.widgets() if getattr(w, "text", None) == SUBMIT]
    return button


def _ticket(kiosk: KioskDriver) -> dict[str, Any]:
    """A real-name ticket for 居住证申领, by touch (the card on the simulated reader)."""
    kiosk.tap("取号")
    kiosk.screen("identity")
    kiosk.swipe("resident")
    kiosk.until(lambda: kiosk.shows("直接继续"), "the card to be read", timeout=15)
    kiosk.tap("直接继续")
    kiosk.screen("domains")
    kiosk.kiosk.flows.choose_item(RESIDENCE)
    kiosk.screen("confirm")
    kiosk.tap("材料已备齐，确认取号")
    kiosk.screen("ticket")
    result: dict[str, Any] = kiosk.state.result
    assert kiosk.shows("短信提醒（留手机号）")
    return result


def test_phone_and_consent_after_a_ticket(kiosk: KioskDriver, bus: Bus) -> None:
    ticket = _ticket(kiosk)
    kiosk.tap("短信提醒（留手机号）")
    kiosk.screen("contact")
    assert kiosk.shows("叫号临近") and kiosk.shows("评价邀请") and kiosk.shows("TD退订")
    assert kiosk.shows(f"为排队号 {ticket['ticket']} 登记短信提醒")

    # Not a mobile number: disabled, whatever the consent; tapping it sends nothing.
    kiosk.tap("点此同意以上内容")
    kiosk.screen("contact")
    kiosk.type("12345678901")
    kiosk.screen("contact")
    assert kiosk.state.keypad == "12345678901" and kiosk.shows("请输入以13–19开头的手机号码")
    assert not _submit_button(kiosk).ready
    kiosk.tap(SUBMIT)
    kiosk.tap("清空")
    kiosk.type(PHONE[:10])  # ten digits: not yet
    kiosk.screen("contact")
    assert not _submit_button(kiosk).ready
    kiosk.type(PHONE[10:] + "9")  # an eleventh digit, and one too many that the keypad ignores
    kiosk.screen("contact")
    assert kiosk.state.keypad == PHONE and kiosk.shows("138 0013 8000")
    assert _submit_button(kiosk).ready

    # Without consent: disabled again.
    kiosk.tap("✓ 已同意以上内容")
    kiosk.screen("contact")
    assert not _submit_button(kiosk).ready
    kiosk.tap(SUBMIT)
    assert _contacts(bus) == []  # nothing reached the server

    # The card leaves the reader meanwhile: nothing of it was on this screen, the number stays (it is not the card's).
    kiosk.kiosk.cards.simulator.remove()
    kiosk.until(lambda: not kiosk.state.card_present, "the card to be taken")
    kiosk.screen("contact")
    assert not kiosk.shows("李") and not any("1101" in t for t in kiosk.texts())

    kiosk.tap("点此同意以上内容")
    kiosk.screen("contact")
    assert _submit_button(kiosk).ready
    kiosk.tap(SUBMIT)
    kiosk.until(lambda: bool((kiosk.state.result or {}).get("done")), "the number to be recorded")
    kiosk.screen("contact")
    assert kiosk.shows("已登记短信提醒") and kiosk.shows("手机号码：138****8000") and kiosk.shows("TD")
    assert not any(PHONE in t.replace(" ", "") for t in kiosk.texts()) and kiosk.state.keypad == ""
    kiosk.shot("contact-done")

    ((contact, subjects),) = _contacts(bus)
    hall = bus.http.app.state.hall  # type: ignore[attr-defined]
    assert contact.phone_hash == phone_hash(hall.ctx.identity_key, PHONE) and contact.masked_phone == "138****8000"
    assert PHONE not in contact.phone_cipher
    assert hall.ctx.keyring.decrypt(contact.key_id, contact.phone_cipher, aad=contact.phone_hash) == PHONE
    assert contact.consent_at is not None and (contact.consent_channel, contact.consent_by) == ("kiosk", "kiosk-01")
    assert contact.identity_hash == identity_hash(hall.ctx.identity_key, CARD_ID)
    assert subjects == [f"ticket:{ticket['ticket_id']}"]

    # 返回: the ticket as it was. Then the number typed again and left to the idle timeout: gone.
    kiosk.tap("返回")
    kiosk.screen("ticket")
    assert kiosk.shows(ticket["ticket"])
    kiosk.tap("短信提醒（留手机号）")
    kiosk.screen("contact")
    kiosk.type("139")
    kiosk.screen("contact")
    kiosk.tap("不用了")
    kiosk.screen("ticket")
    assert kiosk.state.keypad == ""  # leaving drops what was typed
    kiosk.tap("短信提醒（留手机号）")
    kiosk.type("1390000")
    kiosk.ticker.now += kiosk.kiosk.profile.idle_timeout_s + 1
    kiosk.ui.tick()
    kiosk.screen("home")
    assert kiosk.state.keypad == "" and kiosk.state.result is None and kiosk.state.person is None
    assert not any("139" in t.replace(" ", "") for t in kiosk.texts())


def test_a_refusal_is_shown_and_the_number_kept(kiosk: KioskDriver, bus: Bus) -> None:
    """The ticket is cancelled at the desk before the citizen submits: the server's Chinese message shows,
    the form stays filled for another try (or 不用了), nothing is recorded."""
    ticket = _ticket(kiosk)
    kiosk.tap("短信提醒（留手机号）")
    kiosk.screen("contact")
    kiosk.tap("点此同意以上内容")
    kiosk.type(PHONE)
    kiosk.screen("contact")
    assert bus.http.post(f"/api/v1/tickets/{ticket['ticket_id']}/cancel").status_code == 200
    kiosk.tap(SUBMIT)
    kiosk.until(lambda: kiosk.state.error is not None, "the refusal")
    kiosk.screen("contact")
    assert kiosk.shows(f"今天没有正在等候的 {ticket['ticket']} 号")
    assert kiosk.state.keypad == PHONE and _submit_button(kiosk).ready
    assert _contacts(bus) == []
    kiosk.shot("contact-refused")


def test_phone_after_a_booking(kiosk: KioskDriver, bus: Bus) -> None:
    """预约办事 → the booking code → 短信提醒: the number is subscribed to that booking (the holder's card)."""
    kiosk.tap("预约办事")
    kiosk.screen("identity")
    kiosk.swipe("resident")
    kiosk.until(lambda: kiosk.shows("直接继续"), "the card to be read", timeout=15)
    kiosk.tap("直接继续")
    kiosk.screen("domains")
    flows = kiosk.kiosk.flows
    flows.choose_item(RESIDENCE)
    kiosk.screen("slots")
    flows.book(next(s["start"] for s in kiosk.state.result["slots"] if s["free"]))
    kiosk.screen("booked")
    code = kiosk.state.result["code"]
    kiosk.tap("短信提醒（留手机号）")
    kiosk.screen("contact")
    assert kiosk.shows(f"为预约码 {code} 登记短信提醒")
    kiosk.type(PHONE)
    kiosk.tap("点此同意以上内容")
    kiosk.screen("contact")
    kiosk.tap(SUBMIT)
    kiosk.until(lambda: bool((kiosk.state.result or {}).get("done")), "the number to be recorded")
    assert kiosk.shows("手机号码：138****8000")
    ((contact, subjects),) = _contacts(bus)
    assert len(subjects) == 1 and subjects[0].startswith("booking:") and contact.consent_at is not None
    kiosk.tap("返回")
    kiosk.screen("booked")
    assert kiosk.shows(code)


@pytest.fixture(scope="module")
def day(stage: Stage, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shown]:
    """The sample kiosk (canned bus) of the accessibility test, on a Monday morning."""
    shown = Shown(stage, tmp_path_factory.mktemp("contact-samples"), DAY)
    yield shown
    shown.ui.close()


def test_contact_keys_keep_their_shape_and_the_button_shows_in_every_layout(day: Shown) -> None:
    """The sample screens (kiosk.terminal.showcase 31-contact): keys not stretched tall in any layout, and
    短信提醒 reachable from the ticket in portrait and landscape, standard and 大字版."""
    from kivy.uix.behaviors import ButtonBehavior

    for size in (PORTRAIT, LANDSCAPE):
        for elderly in (False, True):
            view = day.show(size, "31-contact", elderly=elderly)
            keys = [w for w in view.walk() if getattr(w, "text", None) == "7"]
            assert keys and keys[0].height <= keys[0].width * 1.2, (size, elderly, keys[0].size)
            view = day.show(size, "08-ticket", elderly=elderly)
            sms = [w for w in view.walk() if isinstance(w, ButtonBehavior) and "短信提醒" in getattr(w, "text", "")]
            assert len(sms) == 1, (size, elderly)
            day.stage.tap(sms[0])
            assert day.flows.state.screen == "contact"
