"""The evaluator tablet app (Kivy): EvaluatorUi binds the service's controller to the screen; EvaluatorApp
runs it. Import after kiosk.ui.setup.prepare()."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock

from kiosk.evaluator.controller import EvaluatorState
from kiosk.evaluator.screen import EvaluatorView
from kiosk.evaluator.service import EvaluatorService
from kiosk.ui.app import DeviceApp


class EvaluatorUi:
    """Redraws on every controller change (on the Kivy thread) and ticks the controller's timers."""

    def __init__(self, service: EvaluatorService, hall_name: str = "") -> None:
        self.service = service
        self.controller = service.controller
        self.view = EvaluatorView(self.controller, hall_name)
        self._redraw = Clock.create_trigger(self.refresh)
        self.controller.on_change = self._changed
        self._tick = Clock.schedule_interval(self.tick, 0.25)
        self.refresh()

    def _changed(self, _state: EvaluatorState) -> None:
        self._redraw()

    def refresh(self, *_: Any) -> None:
        """Draw the controller's state."""
        self.view.show(self.controller.state)
        self.view.show_countdown(self.controller.seconds_left())

    def tick(self, *_: Any) -> None:
        """Let timeouts happen; keep the countdown current."""
        self.controller.tick()
        self.view.show_countdown(self.controller.seconds_left())

    def close(self) -> None:
        """Stop the timers (the service is stopped separately)."""
        self._tick.cancel()
        self._redraw.cancel()
        self.controller.on_change = None


class EvaluatorApp(DeviceApp):
    """One evaluator tablet, full screen (start and stop: kiosk.ui.app.DeviceApp)."""

    service: EvaluatorService

    def __init__(self, service: EvaluatorService, hall_name: str = "", **kwargs: Any) -> None:
        super().__init__(service, **kwargs)
        self.hall_name = hall_name

    def make_ui(self) -> EvaluatorUi:
        """The rating screen, bound to the controller."""
        return EvaluatorUi(self.service, self.hall_name)
