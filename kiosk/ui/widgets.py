"""Small Kivy building blocks: a coloured panel, a label in the CJK font sized for the screen, a button.
Import only after kiosk.ui.setup.prepare(): importing Kivy widgets reads the window configuration."""

from __future__ import annotations

from typing import Any

from kivy.graphics import Color, Rectangle, RoundedRectangle
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk.ui.fonts import FONT_NAME
from kiosk.ui.theme import RGBA, TEXT

DESIGN_SHORT_SIDE = 1080.0  # theme sizes are pixels on a screen whose short side is 1080


class Panel(BoxLayout):
    """A BoxLayout with a solid (optionally rounded) background colour."""

    def __init__(self, colour: RGBA, radius: float = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._radius = radius
        with self.canvas.before:
            self._colour = Color(*colour)
            self._rect = RoundedRectangle(radius=[radius]) if radius else Rectangle()
        self.bind(pos=self._place, size=self._place)

    def _place(self, *_: Any) -> None:
        self._rect.pos, self._rect.size = self.pos, self.size

    def set_colour(self, colour: RGBA) -> None:
        """Change the background colour."""
        self._colour.rgba = colour


class Text(Label):
    """A label in the CJK font; `px` is its size on a 1080-high screen (rescale() applies the real size)."""

    text: str  # Kivy properties, declared for the type checker
    color: Any

    def __init__(
        self,
        text: str = "",
        px: float = 32,
        colour: RGBA = TEXT,
        halign: str = "left",
        valign: str = "middle",
        bold: bool = False,
        lines: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            text=text,
            font_name=FONT_NAME,
            color=colour,
            halign=halign,
            valign=valign,
            bold=bold,
            shorten=lines == 1,
            shorten_from="right",
            max_lines=lines,
            **kwargs,
        )
        self.px = px
        self.font_size = px
        self.bind(size=self._fit)

    def _fit(self, *_: Any) -> None:
        self.text_size = self.size

    def show(self, text: str, colour: RGBA | None = None) -> None:
        """Set the text (and colour) only when it changed: no needless texture rebuilds."""
        if self.text != text:
            self.text = text
        if colour is not None and tuple(self.color) != tuple(colour):
            self.color = colour


class BigButton(Button):
    """A flat coloured button in the CJK font, sized like Text."""

    def __init__(self, text: str, colour: RGBA, px: float = 48, **kwargs: Any) -> None:
        super().__init__(
            text=text,
            font_name=FONT_NAME,
            background_normal="",
            background_down="",
            background_color=colour,
            color=TEXT,
            halign="center",
            valign="middle",
            **kwargs,
        )
        self.px = px
        self.font_size = px
        self.bind(size=lambda *_: setattr(self, "text_size", self.size))


def rescale(root: Widget) -> None:
    """Apply real font sizes under root from each widget's design size and the root's short side."""
    unit = min(root.width, root.height) / DESIGN_SHORT_SIDE
    if unit <= 0:
        return
    for widget in root.walk(restrict=True):
        px = getattr(widget, "px", None)
        if px:  # 0: the widget sizes its text itself
            widget.font_size = max(8.0, px * unit)
