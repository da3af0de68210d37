"""The kiosk app (Kivy): KioskUi binds the flows, the bus service and the card reader to the screen;
KioskApp runs it full screen. Import after kiosk.ui.setup.prepare()."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from kivy.clock import Clock
from kivy.uix.widget import Widget

from kiosk.terminal.flows import KioskFlows
from kiosk.terminal.guidance import VoiceGuide
from kiosk.terminal.hardware import CardInput
from kiosk.terminal.screens.frame import BANNER_CLOSED, BANNER_OFFLINE, KioskView
from kiosk.terminal.service import KioskService
from kiosk.terminal.session import KioskState
from kiosk.terminal.texts import clock_text
from kiosk.ui.app import DeviceApp

log = logging.getLogger("hallq.kiosk")


def thread_runner(job: Callable[[], Any], done: Callable[[Any], None]) -> None:
    """Run a blocking job (a bus request, a face check) off the UI thread; `done` runs on the UI thread."""

    def work() -> None:
        try:
            result: Any = job()
        except Exception as exc:  # shown by `done`
            result = exc
        Clock.schedule_once(lambda _dt: done(result), 0)

    threading.Thread(target=work, name="kiosk-job", daemon=True).start()


def on_ui(fn: Callable[[], object]) -> None:
    """Run fn on the Kivy thread at the next frame."""
    Clock.schedule_once(lambda _dt: fn(), 0)


class KioskUi:
    """The screen of one kiosk, redrawn on the Kivy thread whenever the session changes."""

    def __init__(
        self,
        flows: KioskFlows,
        service: KioskService,
        cards: CardInput | None = None,
        voice: VoiceGuide | None = None,
    ) -> None:
        self.flows = flows
        self.service = service
        self.cards = cards
        self.voice = voice  # 大字版: each step is spoken (offline TTS)
        self.view = KioskView(flows, demo=self._demo if cards is not None and cards.simulated else None)
        self._redraw = Clock.create_trigger(lambda _dt: self.view.show(self.flows.state))
        flows.session.listeners.append(self._changed)
        service.on_change = lambda: on_ui(self._bus_changed)
        service.on_notice = lambda notice: on_ui(lambda: flows.on_device_notice(notice))
        self.online = service.online
        self._tick = Clock.schedule_interval(self.tick, 1.0)
        self.view.show(flows.state, force=True)
        self.tick()

    def _demo(self) -> Widget | None:
        from kiosk.terminal.screens.demo import demo_button

        cards = self.cards
        if cards is None or cards.simulator is None:
            return None
        return demo_button(cards.identities(), cards.insert, cards.remove)

    def card_event(self, event: Any) -> None:
        """From the card watcher's thread: hand the event to the flows on the UI thread."""
        kind = type(event).__name__
        if kind == "CardPresented":
            on_ui(lambda: self.flows.card_presented(event.card))
        elif kind == "CardRemoved":
            on_ui(self.flows.card_removed)
        elif kind == "ReaderFault":
            on_ui(lambda: self.flows.card_fault(event.message))

    def _changed(self, state: KioskState) -> None:
        self._redraw()
        if self.voice is not None:
            self.voice.follow(state, self.flows.session.elderly)

    def _bus_changed(self) -> None:
        if self.flows.state.screen in ("home", "confirm"):
            self._redraw_force()

    def _redraw_force(self) -> None:
        self.view.shown = None
        self._redraw()

    def tick(self, *_: Any) -> None:
        """Once a second: idle timeout, clock, network state, banner."""
        session = self.flows.session
        self.flows.green_tick()  # 绿色通道: waiting for staff holds off the idle timeout
        session.tick()
        online = self.service.online
        if online != self.online:  # the home tiles say what is available
            self.online = online
            self._redraw_force()
        banner = self.banner()
        home = self.flows.state.screen == "home"
        left = None if home and not self.flows.state.personal else session.idle_left()
        self.view.tick(clock_text(self.flows.clock()), online, banner, left, session.warning())

    def banner(self) -> tuple[str, Any] | None:
        """What the whole kiosk must say now: offline first, then after hours."""
        if not self.service.online:
            reason = self.service.offline_reason or "网络中断"
            return f"暂停取号：{reason}。办事指南可继续查询", BANNER_OFFLINE
        if self.cards is not None and self.cards.problem:
            return "身份证阅读器暂不可用，取号请到咨询台由工作人员协助", BANNER_OFFLINE
        if not self.flows.is_open():
            extra = (
                "。24小时自助：预约办事、进度查询、办事指南及材料清单打印"
                if self.flows.profile.twenty_four_hour
                else ""
            )
            return self.flows.closed_text() + extra, BANNER_CLOSED
        return None

    def close(self) -> None:
        """Stop redrawing."""
        self._tick.cancel()
        self._redraw.cancel()
        if self._changed in self.flows.session.listeners:
            self.flows.session.listeners.remove(self._changed)
        self.service.on_change = None
        self.service.on_notice = None
        if self.voice is not None:
            self.voice.close()


class KioskApp(DeviceApp):
    """One kiosk as a full-screen app (start and stop: kiosk.ui.app.DeviceApp), with its card reader."""

    service: KioskService

    def __init__(
        self,
        flows: KioskFlows,
        service: KioskService,
        cards: CardInput | None = None,
        voice: VoiceGuide | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(service, **kwargs)
        self.flows = flows
        self.cards = cards
        self.voice = voice
        self.first_frame: Callable[[], None] | None = None

    def connect(self) -> None:
        """Connect in the background: the home screen shows at once, the banner says when the bus is away."""
        self.service.start(wait_s=0)

    def make_ui(self) -> KioskUi:
        """The kiosk's screen, bound to the flows, the bus service and the card reader."""
        return KioskUi(self.flows, self.service, self.cards, self.voice)

    def started(self) -> None:
        """Start the card reader."""
        if self.cards is not None:
            self.cards.on_event = self.ui.card_event
            self.cards.start()

    def build(self) -> Any:
        """Connect in the background, start the reader, build the screen."""
        view = super().build()
        if self.first_frame is not None:
            callback = self.first_frame
            Clock.schedule_once(lambda _dt: callback(), 0)
        return view

    def disconnect(self) -> None:
        """Close the reader."""
        if self.cards is not None:
            self.cards.stop()
