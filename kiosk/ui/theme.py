"""Colours and type sizes of the hall screens (design sizes at a 1080-pixel short side)."""

from __future__ import annotations

RGBA = tuple[float, float, float, float]


def rgba(hex_colour: str, alpha: float = 1.0) -> RGBA:
    """'#0B2A5B' → (r, g, b, a) in 0..1 as Kivy wants."""
    value = hex_colour.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return (r, g, b, alpha)


BACKGROUND = rgba("#0A2350")  # deep government blue
PANEL = rgba("#12336E")
PANEL_ALT = rgba("#0E2B5E")
HEADER = rgba("#071A3D")
TEXT = rgba("#FFFFFF")
MUTED = rgba("#B8C7E6")
TICKET = rgba("#FFD54A")  # ticket numbers: warm yellow, readable from far away
HIGHLIGHT = rgba("#C62828")  # the newest call's row
RECALL = rgba("#FF8F00")
OPEN = rgba("#2E7D32")
PAUSED = rgba("#F9A825")
CLOSED = rgba("#B71C1C")
NOTICE = rgba("#FFE082")
OFFLINE = rgba("#6D4C41")

# Rating buttons, 非常满意 … 非常不满意
LEVEL_COLOURS: dict[int, RGBA] = {
    5: rgba("#1B8A3A"),
    4: rgba("#43A047"),
    3: rgba("#1E88E5"),
    2: rgba("#EF6C00"),
    1: rgba("#C62828"),
}
