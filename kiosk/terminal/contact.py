"""短信提醒 at the kiosk (issue 16): after a ticket is issued or a booking made, the citizen may leave a mobile
number, typed on the keypad, with their consent, to hear about their turn, the booking and the case. The bus
action contact.consent records it on the server (stored hashed and encrypted; only the masked number comes
back). The number lives in the session's keypad only: leaving the screen or the idle timeout clears it. A
mixin of KioskFlows; no Kivy here."""

from __future__ import annotations

import re
from typing import Any

from kiosk.terminal.flowhost import FlowHost

SCREEN = "contact"
PHONE_DIGITS = 11
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")  # mainland mobiles only: SMS reaches nothing else
# What the citizen agrees to (hallcore.contacts.CONSENT_TEXT in the kiosk's words: what will be sent).
CONSENT_LINE = (
    "本人同意大厅向此手机号发送短信提醒：叫号临近、预约提醒、补正期限、办结领取、评价邀请。"
    "号码加密保存，仅用于办事提醒；可回复TD退订。"
)
OFFERED_FROM = ("ticket", "booked")  # the screens with the 短信提醒（留手机号） button


def phone_valid(digits: str) -> bool:
    """True for an 11-digit mainland mobile number (1[3-9]xxxxxxxxx)."""
    return bool(MOBILE.match(digits))


def _ticket_number(data: dict[str, Any]) -> str | None:
    """The ticket of a ticket.issue reply (a string) or of an appointment.checkin reply (an object)."""
    ticket = data.get("ticket")
    if isinstance(ticket, dict):
        ticket = ticket.get("number")
    return str(ticket) if ticket else None


class ContactFlows(FlowHost):
    """The phone-number screen's moves (uses the session, the person and _call of KioskFlows)."""

    def contact_subject(self) -> dict[str, str] | None:
        """What a number would be left for on this screen: the ticket just issued or the booking just made
        (None when there is nothing to attach it to)."""
        s = self.state
        data = s.result or {}
        if s.screen == "ticket":
            number = _ticket_number(data)
            return {"ticket": number} if number else None
        if s.screen == "booked" and data.get("code"):
            return {"booking_code": str(data["code"])}
        return None

    def offer_contact(self) -> bool:
        """True when the ticket or booking screen shows the 短信提醒 button."""
        return self.state.screen in OFFERED_FROM and self.contact_subject() is not None

    def start_contact(self) -> None:
        """短信提醒（留手机号）: the keypad screen. The screen it came from (and its data) is kept to go back to."""
        subject = self.contact_subject()
        if subject is None:
            return
        s = self.state
        self.session.touch()
        form = {"subject": subject, "back": s.screen, "back_result": s.result, "back_notice": s.notice}
        self.session.go(SCREEN, result={"contact": form, "consent": False, "done": None}, notice=None)

    def _contact(self) -> dict[str, Any]:
        return dict(self.state.result or {})

    def contact_key(self, digit: str) -> None:
        """A keypad digit (up to 11; letters are ignored)."""
        self.session.touch()
        if not digit.isdigit() or self._contact().get("done"):
            return
        self.session.update(keypad=(self.state.keypad + digit)[:PHONE_DIGITS], error=None)

    def toggle_consent(self) -> None:
        """The consent line's 同意 box."""
        self.session.touch()
        form = self._contact()
        if form.get("done"):
            return
        self.session.update(result=form | {"consent": not form.get("consent")}, error=None)

    def contact_ready(self) -> bool:
        """同意并提交 is enabled: a valid mobile number, the consent given, nothing under way or done."""
        form = self._contact()
        return (
            self.state.screen == SCREEN
            and bool(form.get("consent"))
            and not form.get("done")
            and not self.state.busy
            and phone_valid(self.state.keypad)
        )

    def submit_contact(self) -> None:
        """contact.consent with the number, the consent, the ticket or booking and the identity read (the
        server checks a real-name ticket's or a booking's holder). Success keeps only the masked number."""
        if not self.contact_ready():
            return
        form = self._contact()
        subject: dict[str, str] = form["contact"]["subject"]
        params: dict[str, Any] = {"phone": self.state.keypad, "consent": True, **subject}
        identity = self.identity_params()
        if identity is not None:
            params["identity"] = identity
        self.session.touch()

        def done(data: dict[str, Any]) -> None:
            shown = {"masked_phone": str(data.get("masked_phone", "")), "message": str(data.get("message", ""))}
            self.session.update(result=form | {"done": shown}, keypad="")  # the full number leaves the screen

        self._call("正在登记，请稍候…", "contact.consent", params, done)

    def contact_back(self) -> None:
        """不用了 / 返回: back to the ticket or booking screen as it was; the typed number is dropped."""
        self.session.touch()
        form = (self._contact().get("contact") or {}) if self.state.screen == SCREEN else {}
        back = form.get("back")
        if back not in OFFERED_FROM:
            self.session.wipe()
            return
        self.session.go(back, result=form.get("back_result"), notice=form.get("back_notice"))
