"""DeviceApp: the start and stop every hall-floor Kivy app shares — connect, build the screen, tell systemd it
is ready and keep its watchdog fed; on stop, close the screen and go offline cleanly on the bus.
Import after kiosk.ui.setup.prepare()."""

from __future__ import annotations

from typing import Any, Protocol

from kivy.app import App
from kivy.clock import Clock

from kiosk import watchdog


class Screen(Protocol):
    """What an app's UI object offers: its root widget and a way to stop redrawing."""

    view: Any

    def close(self) -> None: ...


class DeviceApp(App):
    """One device as a full-screen app. Subclasses build their UI in `make_ui` and may connect differently
    (`connect`) or start and stop more hardware (`started`, `disconnect`)."""

    def __init__(self, service: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.service = service
        self.title = f"hallq {service.profile.name}"
        self.ui: Any = None

    def connect(self) -> None:
        """Connect to the bus (waits for the connection by default)."""
        self.service.start()

    def make_ui(self) -> Screen:
        """The device's screen, bound to its service."""
        raise NotImplementedError

    def started(self) -> None:
        """After the screen is built, before systemd hears the app is ready."""

    def disconnect(self) -> None:
        """After the screen is closed, before the service goes offline."""

    def build(self) -> Any:
        """Connect, then build the screen."""
        self.connect()
        self.ui = self.make_ui()
        self.started()
        interval = watchdog.watchdog_interval()
        if interval:
            Clock.schedule_interval(lambda *_: watchdog.watchdog_ping(), interval / 2)
        watchdog.ready(f"{self.service.profile.name} 已启动")
        return self.ui.view

    def on_stop(self) -> None:
        """Clean offline on the bus."""
        watchdog.stopping()
        if self.ui is not None:
            self.ui.close()
        self.disconnect()
        self.service.stop()
