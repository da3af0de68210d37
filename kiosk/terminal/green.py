"""绿色通道 at the kiosk: the elderly, the disabled, pregnant women, service members and people who cannot
stand in line get a green-channel ticket (its own L series, called first). The reason is chosen on screen;
an age the ID card proves needs nobody, any other reason is confirmed by staff where the hall requires it
(hall.yaml tickets.green_staff_check): the kiosk sends green.request with the card it read, a staff member on
the floor looks and confirms or declines in the console, and the outcome comes back as a notice (the ticket, to
show and print, or why not). Nobody answering within the server's wait says so. A mixin of KioskFlows; no Kivy
here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kiosk.terminal.flowhost import FlowHost

if TYPE_CHECKING:
    from broker.messages import DeviceNotice
    from kiosk.terminal.hall import HallFacts

log = logging.getLogger("hallq.kiosk")
GREEN_AGE = 60  # 老年人: 60 full years, proven by the ID card's birth date
ELDERLY = "老年人"
# (reason sent to the server, what the button says)
REASONS: tuple[tuple[str, str], ...] = (
    (ELDERLY, "老年人（60周岁以上）"),
    ("残疾人", "残疾人"),
    ("孕妇", "孕妇"),
    ("现役军人", "现役军人、消防救援人员"),
    ("行动不便", "行动不便、重病或带婴幼儿"),
)
TIMED_OUT = "暂时没有工作人员前来核实。您可以普通取号，或直接到绿色通道窗口办理"


class GreenFlows(FlowHost):
    """The green-channel path (uses the session, the hall facts and _call of KioskFlows)."""

    facts: HallFacts
    clock: Callable[[], datetime]
    backend: Any
    runner: Callable[[Callable[[], Any], Callable[[Any], None]], None]

    if TYPE_CHECKING:

        def on_print_failed(self, ticket: str | None, message: str) -> None: ...

    def choose_green(self, reason: str) -> None:
        """A reason button: on to the ID card."""
        self.session.touch()
        if reason not in dict(REASONS):
            return
        self.session.go("identity", purpose="green", green=reason)

    def green_proven(self) -> bool:
        """True when the ID card itself proves the reason (an age of 60 or more)."""
        person = self.state.person
        age = person.age(self.clock().date()) if person is not None else None
        return self.state.green == ELDERLY and age is not None and age >= GREEN_AGE

    def green_after_identity(self) -> None:
        """After the card: choose the item, or call staff to confirm the reason first."""
        s = self.state
        person = s.person
        age = person.age(self.clock().date()) if person is not None else None
        if s.green == ELDERLY and age is not None and age < GREEN_AGE:
            message = f"身份证显示您未满{GREEN_AGE}周岁。如有其他困难，请选择其他原因或呼叫工作人员"
            self.session.go("green", person=None, card_present=False, face=None, error=message)
            return
        if self.green_proven() or not self.facts.green_staff_check:
            self.session.go("domains")
            return
        params = {"reason": s.green, "identity": self.identity_params()}
        self._call(
            "正在通知工作人员…",
            "green.request",
            params,
            lambda data: self.session.go("green_wait", result=data),
        )

    def on_device_notice(self, notice: DeviceNotice) -> None:
        """A notice for this kiosk: a green-channel outcome, or a slip that did not print."""
        if notice.type in ("green_confirmed", "green_declined"):
            self.green_outcome(notice.type, notice.green_id, notice.message, notice.data)
        else:
            self.on_print_failed(notice.ticket, notice.message)

    def green_outcome(self, kind: str, green_id: int | None, message: str, data: dict[str, Any] | None) -> None:
        """Staff confirmed (show the ticket; the slip prints) or declined (say why, offer a normal ticket). An
        outcome for a request this kiosk no longer waits on (the citizen left) is dropped."""
        s = self.state
        result = s.result or {}
        if s.screen != "green_wait" or result.get("outcome") or result.get("green_id") != green_id:
            return
        self.session.touch()
        if kind == "green_confirmed" and data:
            self.session.go("ticket", result=data, notice=data.get("print_error"))
        else:
            self.session.update(result={**result, "outcome": message})

    def green_tick(self) -> None:
        """Once a second: while staff are on their way the idle timeout waits; after the server's wait the
        screen says nobody came (and the idle timeout runs again)."""
        s = self.state
        result = s.result or {}
        if s.screen != "green_wait" or result.get("outcome") or s.busy:
            return
        expires = result.get("expires_at")
        now = self.clock()
        try:
            deadline = datetime.fromisoformat(expires) if isinstance(expires, str) else None
        except ValueError:
            deadline = None
        if deadline is not None and (deadline.tzinfo is None) == (now.tzinfo is None) and now >= deadline:
            self.session.update(result={**result, "outcome": TIMED_OUT})
            return
        self.session.touch()

    def waiting_green_id(self) -> int | None:
        """The green.request this kiosk still waits on (staff have not answered, the wait has not run out)."""
        s = self.state
        result = s.result or {}
        green_id = result.get("green_id")
        if s.screen != "green_wait" or result.get("outcome") or not isinstance(green_id, int):
            return None
        return green_id

    def withdraw_green(self) -> None:
        """The citizen leaves the waiting screen (取消等候, 首页, 返回): green.cancel, so the request leaves the
        staff's floor panel and nobody walks over for nothing. Sent in the background; the screen does not
        wait for it (a failure is only logged: the request still expires on its own)."""
        green_id = self.waiting_green_id()
        if green_id is None:
            return

        def sent(outcome: Any) -> None:
            if isinstance(outcome, Exception):
                log.warning("kiosk: green.cancel for request %s failed: %s", green_id, outcome)

        self.runner(lambda: self.backend.request("green.cancel", green_id=green_id), sent)

    def green_normal_ticket(self) -> None:
        """普通取号 after a decline or a timeout: the same card, the ordinary queue."""
        self.session.touch()
        self.session.go("domains", purpose="ticket", green=None, result=None)
