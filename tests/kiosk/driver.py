"""Drives a whole kiosk on the offscreen stage: the real flows, bus service, card reader simulator on a pty
and screens, with taps as touch events and a screenshot per screen."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.terminal.assemble import Kiosk, build_kiosk
from tests.gateway.fixtures import Bus
from tests.kiosk.conftest import kiosk_setup
from tests.kiosk.fakes import Ticker
from tests.ui.stage import Stage

PORTRAIT = (1080, 1920)
LANDSCAPE = (1920, 1080)


class SlowFace:
    """A face check that takes a moment and reports its steps from its own thread, then accepts."""

    def run(self, id_photo: bytes, on_progress: Callable[[str, str], None], cancel: threading.Event) -> Any:
        assert id_photo, "the card's photo is what the live face is compared with"
        for step, message in (("detect", "请正对摄像头"), ("liveness", "请眨眨眼")):
            on_progress(step, message)
            time.sleep(0.2)
        return type("Outcome", (), {"accepted": True, "reason": None})()


class KioskDriver:
    """One kiosk on screen."""

    def __init__(
        self,
        bus: Bus,
        stage: Stage,
        tmp_path: Path,
        size: tuple[int, int],
        name: str,
        device: str = "kiosk-01",
        **changes: Any,
    ) -> None:
        from kiosk.terminal.app import KioskUi, on_ui, thread_runner

        self.bus, self.stage, self.name = bus, stage, name
        self.ticker = Ticker()
        setup = kiosk_setup(bus, device, **changes)
        self.kiosk: Kiosk = build_kiosk(
            setup,
            tmp_path / f"cache-{device}",
            clock=bus.clock.now,
            runner=thread_runner,
            post=on_ui,
            face=SlowFace,
            monotonic=self.ticker,
        )
        self.kiosk.service.start(wait_s=5)
        assert self.kiosk.service.bus.wait_connected(5)
        self.ui = KioskUi(self.kiosk.flows, self.kiosk.service, self.kiosk.cards)
        self.kiosk.cards.on_event = self.ui.card_event
        self.kiosk.cards.start()
        assert self.kiosk.cards.simulator is not None, self.kiosk.cards.problem
        stage.show(self.ui.view, size)
        self.until(lambda: bool(self.kiosk.service.queue), "the retained queue state")

    @property
    def state(self) -> Any:
        return self.kiosk.flows.state

    def close(self) -> None:
        self.ui.close()
        self.kiosk.cards.stop()
        self.kiosk.service.stop()

    # --- looking ---

    def texts(self) -> list[str]:
        from kivy.uix.label import Label

        return [w.text for w in self.ui.view.walk(restrict=True) if isinstance(w, Label) and w.text]

    def widgets(self) -> list[Any]:
        return list(self.ui.view.walk(restrict=True))

    def shows(self, fragment: str) -> bool:
        return any(fragment in t for t in self.texts())

    def until(self, predicate: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
        self.stage.until(predicate, timeout=timeout, what=what, showing=lambda: (self.state.screen, self.texts()))

    def screen(self, name: str, timeout: float = 10.0) -> None:
        self.until(
            lambda: (
                self.state.screen == name
                and self.ui.view.shown is not None
                and self.ui.view.shown[0] == self.state.version
            ),
            f"screen {name}",
            timeout,
        )

    def shot(self, step: str) -> Path:
        self.ui.tick()
        return self.stage.screenshot(f"kiosk-{self.name}-{step}")

    # --- acting ---

    def tap(self, label: str) -> None:
        """Touch the button (or tile) showing this text."""
        from kivy.uix.behaviors import ButtonBehavior
        from kivy.uix.label import Label

        self.stage.pump(2)
        for widget in self.widgets():
            if isinstance(widget, ButtonBehavior):
                inner = [w.text for w in widget.walk(restrict=True) if isinstance(w, Label)]
                if label in inner:
                    self.stage.tap(widget)
                    return
        raise AssertionError(f"no button {label!r} on {self.state.screen}: {self.texts()}")

    def type(self, letters: str) -> None:
        for ch in letters:
            self.tap(ch.upper())

    def swipe(self, key: str) -> None:
        """Put a test card on the simulated reader (the watcher reports it)."""
        sim = self.kiosk.cards.simulator
        sim.remove()
        time.sleep(0.6)  # the watcher sees the reader empty, so the card is fresh
        sim.insert(key)
