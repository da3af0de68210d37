"""The display apps (Kivy): a DisplayUi binds a DisplayService to its screen; DisplayApp runs one.
Import after kiosk.ui.setup.prepare()."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from kivy.clock import Clock

from firmware_config.devices import HallDisplayProfile
from kiosk.display import views
from kiosk.display.hall_screen import HallDisplayView
from kiosk.display.model import Change
from kiosk.display.service import DisplayService
from kiosk.display.window_screen import WindowDisplayView
from kiosk.ui.app import DeviceApp

log = logging.getLogger("hallq.display")


class DisplayUi:
    """The screen of one display, redrawn on the Kivy thread whenever the bus state changes."""

    def __init__(self, service: DisplayService, now: Callable[[], datetime] | None = None) -> None:
        self.service = service
        self.now = now or service.clock
        profile = service.profile
        self.view: WindowDisplayView | HallDisplayView
        if isinstance(profile, HallDisplayProfile):
            self.view = HallDisplayView(rows=profile.recent_calls, portrait=profile.orientation == "portrait")
        else:
            self.view = WindowDisplayView()
        self.shown = 0  # snapshot version on screen
        self._redraw = Clock.create_trigger(self.refresh)
        service.on_change = self._changed
        self._tick = Clock.schedule_interval(self.refresh, 1.0)  # the clock on screen
        self.refresh()

    def _changed(self, _change: Change) -> None:
        self._redraw()  # thread-safe: runs refresh on the Kivy thread at the next frame

    def refresh(self, *_: Any) -> None:
        """Draw the current state."""
        snap = self.service.model.snapshot()
        now = self.now()
        if isinstance(self.view, HallDisplayView):
            rows = len(self.view.call_lines)
            self.view.show(views.hall_screen(snap, self.service.info, now, rows))
        else:
            window = self.service.window or ""
            self.view.show(views.window_screen(snap, self.service.info, window, now))
        self.shown = snap.version

    def close(self) -> None:
        """Stop redrawing (the service is stopped separately)."""
        self._tick.cancel()
        self._redraw.cancel()
        self.view.notice.stop()
        self.service.on_change = None


class DisplayApp(DeviceApp):
    """One display as a full-screen app (start and stop: kiosk.ui.app.DeviceApp)."""

    service: DisplayService

    def make_ui(self) -> DisplayUi:
        """The display's screen, redrawn from the bus state."""
        return DisplayUi(self.service)
