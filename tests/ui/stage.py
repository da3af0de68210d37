"""An offscreen Kivy stage for tests: one window for the whole session (Kivy has one), widgets shown at a
chosen size, frames pumped by hand, taps as real touch events, screenshots into /tmp/hallq-screens."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

SCREENS = Path(os.environ.get("HALLQ_SCREENS_DIR", "/tmp/hallq-screens"))


class Stage:
    """The test window."""

    def __init__(self) -> None:
        from kiosk.ui.setup import open_window, prepare

        prepare(1920, 1920, kivy_home=Path(tempfile.mkdtemp(prefix="hallq-kivy-test-")), log_to_python=True)
        self.window: Any = open_window()

    def show(self, widget: Any, size: tuple[int, int]) -> Any:
        """Make widget the only thing on a window of this size."""
        from kiosk.ui.setup import resize

        for child in list(self.window.children):
            self.window.remove_widget(child)
        resize(*size)
        self.window.add_widget(widget)
        self.pump(3)
        return widget

    def pump(self, frames: int = 1) -> None:
        """Run frames: clock callbacks, input, layout, drawing."""
        from kivy.base import EventLoop

        for _ in range(frames):
            EventLoop.idle()

    def until(
        self,
        predicate: Callable[[], bool],
        timeout: float = 5.0,
        what: str = "the screen",
        showing: Callable[[], object] | None = None,
    ) -> None:
        """Pump frames until predicate() holds; fail with `what` (and what `showing` returns) after timeout."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                seen = f"; showing {showing()!r}" if showing else ""
                raise AssertionError(f"{what} did not happen within {timeout}s{seen}")
            self.pump()
            time.sleep(0.01)
        self.pump(2)

    def tap(self, widget: Any) -> None:
        """Touch the middle of a widget, as a finger would."""
        from kivy.tests.common import UnitTestTouch

        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.pump()
        touch.touch_up()
        self.pump(2)

    def screenshot(self, name: str) -> Path:
        """Save the window as /tmp/hallq-screens/<name>.png."""
        from kiosk.ui.setup import screenshot

        self.pump(2)
        return screenshot(SCREENS / f"{name}.png")


_STAGE: Stage | None = None


@pytest.fixture(scope="session")
def stage() -> Iterator[Stage]:
    """The offscreen Kivy window (Mesa EGL when there is no DISPLAY)."""
    global _STAGE
    if _STAGE is None:
        _STAGE = Stage()
    yield _STAGE
