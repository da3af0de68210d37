"""A one-line text that scrolls when it is wider than its box (a long notice on a portrait hall display),
and stands still, left-aligned, when it fits. Import only after kiosk.ui.setup.prepare()."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.uix.label import Label
from kivy.uix.stencilview import StencilView

from kiosk.ui.fonts import FONT_NAME
from kiosk.ui.theme import RGBA, TEXT

SPEED_EMS = 3.0  # scrolling speed in em per second: a reader keeps up with it
GAP_EMS = 4.0  # space between the end of the text and its next pass


class Marquee(StencilView):
    """Draws `text` whole on one line; scrolls it right to left, round and round, when it does not fit."""

    def __init__(self, px: float = 40, colour: RGBA = TEXT, fps: float = 30.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.label = Label(font_name=FONT_NAME, color=colour, size_hint=(None, None), halign="left")
        self.label.px = px  # rescale() sets its font size from the screen's size
        self.label.font_size = px
        self.add_widget(self.label)
        self.offset = 0.0  # how far the text has moved left, in pixels
        self.passes = 0  # how many times the whole text went by
        self._fps = fps
        self._ticker: Any = None
        self.label.bind(texture_size=self._layout)
        self.bind(pos=self._layout, size=self._layout)

    @property
    def text(self) -> str:
        """The whole text (never shortened)."""
        return str(self.label.text)

    @property
    def scrolling(self) -> bool:
        """True while the text is wider than the box and moves."""
        return self._ticker is not None

    @property
    def overflow(self) -> float:
        """How many pixels of text do not fit the box (0 when it fits)."""
        return max(0.0, float(self.label.texture_size[0]) - float(self.width))

    def show(self, text: str, colour: RGBA | None = None) -> None:
        """Set the text (a new text starts from its beginning) and colour."""
        if self.label.text != text:
            self.label.text = text
            self.offset = 0.0
            self.passes = 0
        if colour is not None and tuple(self.label.color) != tuple(colour):
            self.label.color = colour
        self.label.texture_update()
        self._layout()

    def stop(self) -> None:
        """Stop scrolling (the widget is going away)."""
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    def _layout(self, *_: Any) -> None:
        self.label.size = self.label.texture_size
        if self.overflow > 0 and self.width > 0:
            if self._ticker is None:
                self._ticker = Clock.schedule_interval(self._step, 1 / self._fps)
        else:
            self.stop()
            self.offset = 0.0
        self._place()

    def _step(self, dt: float) -> None:
        em = float(self.label.font_size)
        self.offset += SPEED_EMS * em * min(dt, 0.2)
        cycle = float(self.label.texture_size[0]) + GAP_EMS * em
        if self.offset >= cycle:  # the text went by: it comes in again from the right edge
            self.offset -= cycle + float(self.width)
            self.passes += 1
        self._place()

    def _place(self) -> None:
        self.label.x = self.x - self.offset
        self.label.center_y = self.center_y
