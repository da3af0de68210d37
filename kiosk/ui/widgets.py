"""Small Kivy building blocks: a coloured panel, a label in the CJK font sized for the screen, a button.
Import only after kiosk.ui.setup.prepare(): importing Kivy widgets reads the window configuration."""

from __future__ import annotations

import functools
from typing import Any

from kivy.graphics import Color, Rectangle, RoundedRectangle
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk.ui.fonts import FONT_NAME
from kiosk.ui.theme import RGBA, TEXT

DESIGN_SHORT_SIDE = 1080.0  # theme sizes are pixels on a screen whose short side is 1080
LINE_SPACING = 1.3  # wrapped text: line height ≥ 1.3 (MIIT 2021 适老化)


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


@functools.lru_cache(maxsize=4096)
def text_width(text: str, size: float, font_name: str, bold: bool) -> float:
    """The width of one line of text at a font size (measured by Kivy's text provider)."""
    from kivy.core.text import Label as CoreLabel

    width: float = CoreLabel(text=text, font_size=size, font_name=font_name, bold=bold).get_extents(text)[0]
    return width


@functools.lru_cache(maxsize=512)
def wrapped_lines(text: str, size: float, width: float, font_name: str, bold: bool) -> int:
    """How many lines Kivy wraps text into at this font size and width (it breaks at spaces first)."""
    from kivy.core.text import Label as CoreLabel

    core = CoreLabel(text=text, font_size=size, font_name=font_name, bold=bold, text_size=(max(1.0, width), None))
    core.refresh()
    return max(1, len(core._cached_lines))


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
            line_height=LINE_SPACING if lines > 1 else 1.0,
            **kwargs,
        )
        self.px = px
        self.font_size = px
        self.design_font = px  # the size rescale() asks for; _fit shrinks below it only when the box is too low
        self.bind(size=self._fit, text=lambda *_: self.fit_font())

    def _fit(self, *_: Any) -> None:
        self.text_size = self.size
        self.fit_font()

    def fit_font(self) -> None:
        """The design size, or less when the label is lower than its lines or a line is wider than the label:
        text is never cut off nor spills over a neighbour (a small window, a crowded row, 大字版)."""
        allowed = max(1, int(getattr(self, "fit_lines", None) or self.max_lines or 1))
        font, lines = self.design_font, allowed
        free = self.width - self.padding[0] - self.padding[2] - 4
        if free > 0 and self.text:
            name, bold = self.font_name, bool(self.bold)
            if allowed == 1:  # one line: smaller rather than shortened with …
                wide = text_width(self.text, font, name, bold)
                while wide > free and font > 8:  # glyph widths do not scale exactly: measure again
                    font *= min(0.97, free / wide)
                    wide = text_width(self.text, font, name, bold)
            else:  # only the lines the text needs at its full size; smaller when it needs more than allowed
                lines = min(allowed, wrapped_lines(self.text, font, free, name, bold))
                while font > 8 and wrapped_lines(self.text, font, free, name, bold) > allowed:
                    font *= 0.92
        spacing = (self.line_height or 1.0) if lines > 1 else 1.0  # one line has no gap to keep
        room = self.height / (lines * spacing * 1.25) if self.height > 0 else font
        self.font_size = max(8.0, min(font, room))

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
            line_height=LINE_SPACING,  # a label that wraps (a long choice) keeps its lines apart
            **kwargs,
        )
        self.px = px
        self.font_size = px
        self.bind(size=lambda *_: setattr(self, "text_size", self.size))


def spaced(widget: Any, padding: Any = None, spacing: float | None = None) -> Any:
    """Give a layout design padding and spacing (pixels at a 1080 short side) that rescale() scales."""
    if padding is not None:
        widget.design_padding = padding
        widget.padding = padding
    if spacing is not None:
        widget.design_spacing = spacing
        widget.spacing = spacing
    return widget


def unit_of(root: Widget) -> float:
    """Real pixels per design pixel under root."""
    return min(root.width, root.height) / DESIGN_SHORT_SIDE


def rescale(root: Widget) -> None:
    """Apply real font sizes, paddings and spacings under root from each widget's design size and the root's
    short side: a window at half size looks like the full screen, only smaller."""
    unit = unit_of(root)
    if unit <= 0:
        return
    for widget in root.walk(restrict=True):
        px = getattr(widget, "px", None)
        if px:  # 0: the widget sizes its text itself
            size = max(8.0, px * unit)
            if isinstance(widget, Text):
                widget.design_font = size
                widget.fit_font()
            else:
                widget.font_size = size
        pad = getattr(widget, "design_padding", None)
        if pad is not None:
            widget.padding = [p * unit for p in pad] if isinstance(pad, list | tuple) else pad * unit
        gap = getattr(widget, "design_spacing", None)
        if gap is not None:
            widget.spacing = [g * unit for g in gap] if isinstance(gap, list | tuple) else gap * unit
        fixed = getattr(widget, "design_height", None)
        if fixed is not None:
            widget.height = fixed * unit
