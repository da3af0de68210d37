"""What the citizen can do at the kiosk, as plain methods over the session and the bus: navigation, the
identity step (ID card, face check against the card, or none for consultation), ticketing and appointment
check-in. Self-service flows are in selfservice.py. No Kivy here: screens call these methods."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from firmware_config.devices import KioskProfile
from kiosk.terminal.booking import BookingFlows
from kiosk.terminal.catalog import CatalogCache
from kiosk.terminal.complaints import ComplaintFlows
from kiosk.terminal.contact import ContactFlows
from kiosk.terminal.green import GreenFlows
from kiosk.terminal.hall import HallFacts
from kiosk.terminal.selfservice import SelfService
from kiosk.terminal.service import KioskError
from kiosk.terminal.session import KioskSession, Person, Purpose
from kiosk.terminal.texts import reopen_text

log = logging.getLogger("hallq.kiosk")
Runner = Callable[[Callable[[], Any], Callable[[Any], None]], None]
NEEDS_SERVER = ("ticket", "checkin", "booking", "green", "progress", "evaluation")
CLOSED_OUTSIDE_HOURS = ("ticket", "green")  # walk-in tickets; 预约签到 follows 早晚弹性办, booking never closes
FACE_START = "请正对摄像头，按屏幕提示操作"  # the challenge (turn or blink) names itself: kiosk.face.prompts


class Backend(Protocol):
    """The bus as the flows see it (KioskService, or a fake in tests)."""

    @property
    def online(self) -> bool: ...

    @property
    def offline_reason(self) -> str | None: ...

    @property
    def queue(self) -> list[Any]: ...

    def request(self, action: str, **params: Any) -> dict[str, Any]: ...

    def base_url(self) -> str | None: ...


class FaceRunner(Protocol):
    """kiosk.face.FaceCheckin as the flows use it."""

    def run(self, id_photo: bytes, on_progress: Callable[[str, str], None], cancel: threading.Event) -> Any: ...


def run_now(job: Callable[[], Any], done: Callable[[Any], None]) -> None:
    """Run a job and hand over its result (or exception) at once (tests; the app uses a thread)."""
    try:
        result: Any = job()
    except Exception as exc:  # handed to `done`, which shows it
        result = exc
    done(result)


class KioskFlows(SelfService, BookingFlows, GreenFlows, ComplaintFlows, ContactFlows):
    """The kiosk's behaviour."""

    def __init__(
        self,
        session: KioskSession,
        backend: Backend,
        profile: KioskProfile,
        facts: HallFacts,
        catalog: CatalogCache,
        clock: Callable[[], datetime],
        runner: Runner = run_now,
        post: Callable[[Callable[[], None]], None] = lambda fn: fn(),
        face: Callable[[], FaceRunner] | None = None,
        public_url: str | None = None,
    ) -> None:
        self.session = session
        self.backend = backend
        self.profile = profile
        self.facts = facts
        self.catalog = catalog
        self.clock = clock
        self.runner = runner
        self.post = post  # run on the UI thread (progress callbacks from worker threads)
        self.face_factory = face
        self.public_url = public_url
        self.face_cancel: threading.Event | None = None
        session.elderly = profile.elderly_mode

    # --- state helpers ---

    @property
    def state(self) -> Any:
        """The current KioskState."""
        return self.session.state

    def is_open(self) -> bool:
        """True when walk-in ticketing is open now."""
        return self.facts.hours.is_open(self.clock())

    def checkin_open(self) -> bool:
        """True when booked citizens may check in now (早晚弹性办: up to an hour before and after)."""
        return self.facts.hours.is_open_for_appointments(self.clock())

    def closed_text(self) -> str:
        """When ticketing reopens."""
        now = self.clock()
        return reopen_text(self.facts.hours.next_opening(now), now)

    def available(self, purpose: str) -> str | None:
        """Why a home function cannot be used now (None: it can)."""
        if purpose in CLOSED_OUTSIDE_HOURS and not self.is_open():
            return self.closed_text()
        if purpose == "checkin" and not self.checkin_open():
            return "现在不在预约签到时间，请在预约时段前后到场签到"
        if purpose in NEEDS_SERVER and not self.backend.online:
            return f"暂停{'取号' if purpose == 'ticket' else '服务'}：{self.backend.offline_reason or '网络中断'}"
        return None

    def _call(self, busy: str, action: str, params: dict[str, Any], done: Callable[[dict[str, Any]], object]) -> None:
        """Send a request off the UI thread; show `busy` meanwhile and the error if it fails."""
        self.session.update(busy=busy, error=None)
        generation = self.session.generation

        def finish(result: Any) -> None:
            if self.session.generation != generation:
                return  # wiped meanwhile (首页 or timeout): the answer belongs to nobody now
            if isinstance(result, KioskError):
                self.session.update(busy=None, error=result.message)
            elif isinstance(result, Exception):
                log.error("kiosk: %s failed: %s", action, result)
                self.session.update(busy=None, error="系统暂时无法办理，请咨询工作人员")
            else:
                self.session.update(busy=None)
                done(result)

        self.runner(lambda: self.backend.request(action, **params), finish)

    # --- navigation ---

    def home(self) -> None:
        """返回首页: wipe everything about the person (and withdraw a green-channel request still waiting)."""
        self.withdraw_green()
        self.cancel_face()
        self.session.wipe()

    def toggle_elderly(self) -> None:
        """大字版 on/off."""
        self.session.elderly = not self.session.elderly
        self.session.update()

    def start(self, purpose: Purpose) -> None:
        """A home button."""
        self.session.touch()
        problem = self.available(purpose)
        if problem is not None:
            self.session.update(error=problem)
            return
        first = {
            "ticket": "identity",
            "checkin": "identity",
            "booking": "identity",
            "green": "green",
            "guide": "domains",
            "progress": "progress",
        }
        self.session.go(first.get(purpose, "evaluation"), purpose=purpose, item_code=None, green=None)

    def keep_going(self) -> None:
        """继续: the citizen needs more time (the countdown starts over)."""
        self.session.touch()
        self.session.update()

    def ticket_for_item(self) -> None:
        """取号办理 on a guide page: a ticket for this item (identity first, then straight to 确认取号)."""
        code = self.state.item_code
        self.session.touch()
        if code is None:
            return
        problem = self.available("ticket")
        if problem is not None:
            self.session.update(error=problem)
            return
        self.session.go("identity", purpose="ticket", item_code=code, group=None)

    def back(self) -> None:
        """One step back (home from a first screen)."""
        s = self.state
        if s.screen == "items" and s.query:
            self.session.go("search", query=s.query)
        elif s.screen == "items" or (s.screen == "search" and s.purpose in ("ticket", "guide")):
            self.session.go("domains")
        elif s.screen in ("confirm", "slots") and s.item_code:
            self.session.go("items", domain=self.catalog_domain(s.item_code))
        elif s.screen == "guide":
            self.session.go("items", domain=self.catalog_domain(s.item_code or ""))
        elif s.screen == "rate" and s.person is not None:
            self.recent_visits()
        elif s.screen == "domains" and s.purpose in ("ticket", "booking", "green"):
            self.session.go("identity")
        elif s.screen == "identity" and s.purpose == "green":
            self.session.go("green")
        elif s.screen == "contact":
            self.contact_back()  # 短信提醒: back to the ticket or booking, the number dropped
        else:
            self.home()

    def catalog_domain(self, code: str) -> str | None:
        """The domain of an item in the cached catalog."""
        current = self.catalog.current
        return current.domain_of(code) if current else None

    def page(self, delta: int) -> None:
        """Next/previous page of a list."""
        self.session.touch()
        self.session.update(page=max(0, self.state.page + delta))

    # --- identity ---

    def card_presented(self, card: Any) -> None:
        """An ID card was read (from the card watcher, on the UI thread)."""
        self.session.touch()
        screen = self.state.screen
        if screen not in ("identity", "progress", "evaluation"):
            if self.state.person is not None and Person.from_card(card).id_number == self.state.person.id_number:
                self.session.update(card_present=True)  # the same card back on the reader
            return  # a card on another screen means nothing
        if getattr(card, "expired", False):
            self.session.update(error="该证件已过有效期，请到咨询台由工作人员协助办理")
            return
        person = Person.from_card(card)
        self.session.update(person=person, error=None, face=None, card_present=True)
        if screen == "progress":
            self.query_progress()
        elif screen == "evaluation":
            self.recent_visits()
        elif not self.face_possible():
            self.proceed()

    def card_removed(self) -> None:
        """The card left the reader: its holder's data leaves the screen. What was found with the card
        (cases, visits) is cleared; a step under way keeps the identity in memory only, shown as 已核验."""
        if not self.state.card_present:
            return
        self.session.update(card_present=False)
        s = self.state
        if s.screen in ("progress_result", "visits") and s.person is not None:
            self.session.go(
                "progress" if s.screen == "progress_result" else "evaluation",
                person=None,
                result=None,
                notice="证件已取走，查询结果已清除",
            )

    def card_fault(self, message: str) -> None:
        """The reader reported a problem."""
        if self.state.screen in ("identity", "progress", "evaluation"):
            self.session.update(error=f"读卡失败：{message}，请重新放置身份证")

    def face_possible(self) -> bool:
        """Face check-in is offered: enabled, a camera, and a card photo to compare with."""
        person = self.state.person
        return bool(self.profile.face_checkin and self.face_factory and person is not None and person.photo)

    def skip_allowed(self) -> bool:
        """Ticketing without identity: only for groups that allow it (consultation)."""
        return self.state.purpose == "ticket" and bool(self.facts.anonymous_groups())

    def skip_identity(self) -> None:
        """无身份证咨询取号."""
        groups = self.facts.anonymous_groups()
        if self.state.purpose != "ticket" or not groups:
            return
        self.session.go("confirm", group=groups[0].code, item_code=None, person=None)

    def start_face(self) -> None:
        """Verify the person at the kiosk against the photo of the card just read (off the UI thread)."""
        person = self.state.person
        if not self.face_possible() or person is None or person.photo is None or self.face_factory is None:
            return
        cancel = threading.Event()
        self.face_cancel = cancel
        self.session.update(face=FACE_START, error=None)
        photo, factory = person.photo, self.face_factory

        def progress(_step: str, message: str) -> None:
            self.post(lambda: self._face_progress(cancel, message))

        self.runner(lambda: factory().run(photo, progress, cancel), lambda outcome: self._face_done(cancel, outcome))

    def _face_progress(self, cancel: threading.Event, message: str) -> None:
        if not cancel.is_set() and self.state.person is not None:
            self.session.touch()
            self.session.update(face=message)

    def _face_done(self, cancel: threading.Event, outcome: Any) -> None:
        if cancel.is_set() or self.state.person is None:
            return
        self.face_cancel = None
        if not isinstance(outcome, Exception) and getattr(outcome, "accepted", False):
            self.session.update(person=replace(self.state.person, method="face"), face="人脸核验通过")
        else:
            reason = getattr(outcome, "reason", None) or str(outcome)
            log.info("kiosk: face check-in not accepted: %s", reason)
            why = reason if isinstance(reason, str) and len(reason) < 40 and not isinstance(outcome, Exception) else ""
            self.session.update(face=f"人脸核验未通过{f'（{why}）' if why else ''}，已按身份证继续办理")
        self.proceed()

    def cancel_face(self) -> None:
        """Stop a face check-in that is running."""
        if self.face_cancel is not None:
            self.face_cancel.set()
            self.face_cancel = None

    def proceed(self) -> None:
        """After the identity step: on to what the citizen came for."""
        self.cancel_face()
        purpose = self.state.purpose
        if purpose == "ticket" and self.state.item_code:
            self.session.go("confirm")  # from a guide's 取号办理: the item is chosen already
        elif purpose in ("ticket", "booking"):
            self.session.go("domains")
        elif purpose == "green":
            self.green_after_identity()
        elif purpose == "checkin":
            self.submit_checkin()

    def identity_params(self) -> dict[str, Any] | None:
        """The identity a request carries (personal data on this device's own topics only)."""
        person = self.state.person
        if person is None:
            return None
        return {"id_number": person.id_number, "name": person.name, "method": person.method}

    # --- ticketing ---

    def choose_domain(self, code: str) -> None:
        """A domain tile."""
        self.session.touch()
        self.session.go("items", domain=code)

    def open_search(self) -> None:
        """The pinyin-initials keyboard."""
        self.session.touch()
        self.session.go("search")

    def key(self, letter: str) -> None:
        """A key of the on-screen keyboard (letters for search, digits/letters on the keypad)."""
        self.session.touch()
        if self.state.screen == "search":
            self.session.update(query=(self.state.query + letter.lower())[:12], page=0)
        elif self.state.screen == "contact":
            self.contact_key(letter)  # 短信提醒: digits only, 11 at most
        else:
            self.session.update(keypad=(self.state.keypad + letter.upper())[:64], error=None)

    def backspace(self) -> None:
        """退格."""
        self.session.touch()
        if self.state.screen == "search":
            self.session.update(query=self.state.query[:-1], page=0)
        else:
            self.session.update(keypad=self.state.keypad[:-1])

    def clear(self) -> None:
        """清空."""
        self.session.touch()
        self.session.update(query="", keypad="", page=0)

    def choose_item(self, code: str) -> None:
        """An item in a list: confirm it (ticket) or show its guide."""
        self.session.touch()
        if self.state.purpose in ("ticket", "green"):
            self.session.go("confirm", item_code=code, group=None)
        elif self.state.purpose == "booking":
            self.session.update(item_code=code)
            self.booking_slots(None)
        else:
            self.session.go("guide", item_code=code, query=self.state.query)

    def confirm_ticket(self) -> None:
        """确认取号: ticket.issue; the result screen shows the number (and says if the printer failed)."""
        s = self.state
        params: dict[str, Any] = {"item_code": s.item_code} if s.item_code else {"group": s.group}
        identity = self.identity_params()
        if identity is not None:
            params["identity"] = identity
        if s.purpose == "green" and s.green:
            params["priority"], params["priority_reason"] = "green", s.green
        self._call(
            "正在取号，请稍候…",
            "ticket.issue",
            params,
            lambda data: self.session.go("ticket", result=data, notice=data.get("print_error")),
        )

    def on_print_failed(self, ticket: str | None, message: str) -> None:
        """A DeviceNotice: the slip did not print. The ticket screen says so and shows the QR code."""
        result = self.state.result or {}
        if self.state.screen in ("ticket", "guide") and (ticket is None or result.get("ticket") == ticket):
            self.session.update(notice=message)

    # --- appointment check-in ---

    def submit_checkin(self) -> None:
        """appointment.checkin with the card (a code alone cannot be sold on) and the booking code if typed
        (it picks the booking when a person holds several today)."""
        params: dict[str, Any] = {"identity": self.identity_params()}
        if self.state.keypad:
            params["booking_code"] = self.state.keypad
        self._call(
            "正在签到，请稍候…",
            "appointment.checkin",
            params,
            lambda data: self.session.go("ticket", result=data, notice=data.get("print_error")),
        )
