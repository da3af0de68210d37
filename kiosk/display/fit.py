"""Text that must be shown whole (ticket numbers: A012, A1000, AB1000) sized to fit its box: as large as the
design asks, smaller only when the text is wider than the box. Import only after kiosk.ui.setup.prepare()."""

from __future__ import annotations

from functools import lru_cache

from kiosk.ui.fonts import FONT_NAME

MARGIN = 1.04  # a little room, so rounding never makes Kivy shorten the text to "A10…"


@lru_cache(maxsize=512)
def text_ems(text: str, bold: bool = True) -> float:
    """Width of one line of text in em (its width at font size 1) in the screens' CJK font."""
    if not text:
        return 0.0
    from kivy.core.text import Label as CoreLabel

    label = CoreLabel(font_name=FONT_NAME, font_size=100, bold=bold)
    return label.get_extents(text)[0] / 100


def fitting_size(text: str, wanted: float, width: float, bold: bool = True, floor: float = 8.0) -> float:
    """The font size for `text` in a box `width` wide: `wanted`, or less when the text would not fit."""
    ems = text_ems(text, bold) * MARGIN
    if ems <= 0 or width <= 0:
        return max(floor, wanted)
    return max(floor, min(wanted, width / ems))
