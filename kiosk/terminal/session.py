"""The kiosk's session: which screen, what the citizen chose, who they are (in memory only), and the idle
timer that wipes it all. A plain state machine with an injected clock; no Kivy here."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

from hallcore.identity import mask_id_number as mask_id
from hallcore.identity import mask_name

Method = Literal["id_card", "face"]
Purpose = Literal["ticket", "checkin", "booking", "green", "guide", "progress", "evaluation"]
HOME = "home"
WARN_S = 20.0  # the last seconds before the idle timeout: a visible countdown with 继续


@dataclass(frozen=True)
class Person:
    """Who is at the kiosk, from the ID card just read. Never written anywhere; gone on wipe()."""

    name: str
    id_number: str
    masked_name: str
    masked_id: str
    photo: bytes | None = field(default=None, repr=False)
    method: Method = "id_card"
    birth: date | None = field(default=None, repr=False)

    def age(self, today: date) -> int | None:
        """Full years on `today` (from the card's birth date), None when the card has none."""
        if self.birth is None:
            return None
        return today.year - self.birth.year - ((today.month, today.day) < (self.birth.month, self.birth.day))

    def __repr__(self) -> str:  # a log line or traceback must never show the full identity
        return f"Person({self.masked_name}, {self.masked_id}, {self.method})"

    @classmethod
    def from_card(cls, card: Any) -> Person:
        """From a kiosk.idcard.IdCard (its own masked forms when it has them)."""
        name, number = str(card.name or getattr(card, "english_name", "")), str(card.id_number)
        masked_name = getattr(card, "masked_name", None)
        masked_id = getattr(card, "masked_id_number", None)
        return cls(
            name=name,
            id_number=number,
            masked_name=str(masked_name() if callable(masked_name) else masked_name or mask_name(name)),
            masked_id=str(masked_id() if callable(masked_id) else masked_id or mask_id(number)),
            photo=getattr(card, "photo", None),
            birth=birth if isinstance(birth := getattr(card, "birth", None), date) else None,
        )


@dataclass(frozen=True)
class KioskState:
    """Everything a screen draws. Replaced, never mutated: screens compare versions."""

    screen: str = HOME
    purpose: Purpose | None = None
    person: Person | None = None
    domain: str | None = None
    page: int = 0
    query: str = ""  # pinyin letters typed on the on-screen keyboard
    keypad: str = ""  # digits/letters typed on the keypad (booking code, serial number, ticket)
    item_code: str | None = None
    group: str | None = None
    result: dict[str, Any] | None = None  # the server's answer shown on a result screen
    visit_id: int | None = None
    busy: str | None = None  # what we are waiting for (正在取号…)
    error: str | None = None
    face: str | None = None  # face check-in progress or outcome
    notice: str | None = None  # printer failure and similar
    green: str | None = None  # 绿色通道: the reason chosen (老年人, 残疾人 …)
    day: str | None = None  # 预约: the ISO date whose slots are shown
    card_present: bool = False  # the ID card is on the reader now (its holder's masked data may show)
    version: int = 0

    @property
    def personal(self) -> bool:
        """True when the state holds anything about a person."""
        return self.person is not None or self.result is not None or self.visit_id is not None


class KioskSession:
    """The current state, its listeners and the idle timeout."""

    def __init__(self, idle_timeout_s: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.idle_timeout_s = idle_timeout_s
        self.monotonic = monotonic
        self.state = KioskState()
        self.last_touch = monotonic()
        self.listeners: list[Callable[[KioskState], None]] = []
        self.elderly = False  # 大字版: a preference of the kiosk, not of a person; survives wipe()
        self.generation = 0  # bumped by every wipe: an answer for an earlier citizen is dropped

    def update(self, **changes: Any) -> KioskState:
        """Replace fields of the state, bump its version, tell listeners."""
        self.state = replace(self.state, version=self.state.version + 1, **changes)
        for listener in list(self.listeners):
            listener(self.state)
        return self.state

    def go(self, screen: str, **changes: Any) -> KioskState:
        """Show another screen (clears the last error, the busy note and the keyboards)."""
        defaults: dict[str, Any] = {"error": None, "busy": None, "page": 0, "query": "", "keypad": ""}
        return self.update(screen=screen, **{**defaults, **changes})

    def touch(self) -> None:
        """The citizen did something: restart the idle timer."""
        self.last_touch = self.monotonic()

    def idle_left(self) -> float:
        """Seconds until the idle timeout."""
        return max(0.0, self.idle_timeout_s - (self.monotonic() - self.last_touch))

    def warning(self) -> bool:
        """True in the last WARN_S seconds before a timeout that would cut a citizen off mid-step."""
        if self.state.busy or (self.state.screen == HOME and not self.state.personal):
            return False
        return self.idle_left() <= WARN_S

    def tick(self) -> bool:
        """Call regularly: after the idle timeout, go home and wipe. True when it wiped."""
        if self.state.busy:
            self.touch()  # never wipe under a request still running
            return False
        if self.idle_left() > 0 or (self.state.screen == HOME and not self.state.personal):
            return False
        self.wipe()
        return True

    def wipe(self) -> KioskState:
        """Back home with nothing of the last person left in memory."""
        self.touch()
        self.generation += 1
        self.state = KioskState(version=self.state.version + 1)
        for listener in list(self.listeners):
            listener(self.state)
        return self.state
