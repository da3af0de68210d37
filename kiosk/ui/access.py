"""The 适老化 rules measured on rendered widgets (MIIT 2021《移动互联网应用（APP）适老化通用设计规范》, applied
to the kiosk's 大字版): main text ≥ 18 dp, headlines ≥ 30 dp, touch targets ≥ 60 × 60 dp, line spacing of
wrapped text ≥ 1.3, text contrast ≥ 4.5:1.

A dp here is 1.5 design pixels (a design pixel is one pixel of a screen whose short side is 1080): a hall
kiosk's 21.5–27" full-HD panel has 80–100 pixels per inch and is read from about 50 cm, where the rule's
160-dpi phone dp held at 30 cm spans about 1.2 of them; 1.5 leaves a margin. Import after Kivy is set up."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from kiosk.ui.widgets import Panel, unit_of

DESIGN_PX_PER_DP = 1.5
MIN_TEXT_DP = 18.0
MIN_HEADLINE_DP = 30.0
MIN_TARGET_DP = 60.0
MIN_LINE_SPACING = 1.3
MIN_CONTRAST = 4.5


def luminance(rgba: Any) -> float:
    """Relative luminance (WCAG 2) of an sRGB colour given as 0..1 floats."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(float(c)) for c in tuple(rgba)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: Any, b: Any) -> float:
    """WCAG contrast ratio of two colours (1..21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def background_of(widget: Widget) -> Any | None:
    """The colour behind a widget: its own (a flat button, a panel) or its nearest ancestor's."""
    node: Any = widget
    while node is not None:
        if isinstance(node, Button) and node.background_normal == "":
            return tuple(node.background_color)
        if isinstance(node, Panel):
            return tuple(node._colour.rgba)
        parent = node.parent
        node = parent if parent is not node else None
    return None


def visible(widget: Widget) -> bool:
    """Drawn: it and every ancestor opaque and with a size."""
    node: Any = widget
    while isinstance(node, Widget):
        if node.opacity <= 0 or node.width <= 0 or node.height <= 0:
            return False
        node = node.parent
    return True


@dataclass(frozen=True)
class Finding:
    """One widget that breaks a rule."""

    rule: str
    what: str
    measured: float
    wanted: float

    def __str__(self) -> str:
        if self.rule == "cut text":
            return f"{self.rule}: {self.what!r}"
        return f"{self.rule}: {self.what!r} {self.measured:.1f} < {self.wanted:g}"


def dp(pixels: float, unit: float) -> float:
    """Real pixels → dp at this window's scale."""
    return pixels / unit / DESIGN_PX_PER_DP


def labels(root: Widget) -> Iterator[Label]:
    """Visible labels with text under root."""
    for widget in root.walk(restrict=True):
        if isinstance(widget, Label) and widget.text.strip() and visible(widget):
            yield widget


def cut_off(label: Label) -> bool:
    """True when a label shows less than its text: shortened with an ellipsis, lines clipped below its
    box, or a line running past its sides (for the screens of issue 18: a cut 24-hour banner, 网络正常 cut)."""
    if label.width <= 0 or label.height <= 0:
        return False
    label.texture_update()
    lines = getattr(getattr(label, "_label", None), "_cached_lines", None) or []
    shown = "".join(word.text for line in lines for word in line.words)
    if "".join(shown.split()) != "".join(label.text.split()):
        return True
    if any(line.w > label.width + 1 for line in lines):
        return True
    # Lines below the box (a CJK line box is ~1.9 em tall, mostly air: the last line counts by its glyphs)
    height = label.text_size[1] if label.text_size[1] else label.texture_size[1]
    return len(lines) > 1 and sum(line.h for line in lines[:-1]) + label.font_size > height + 2


def audit(root: Widget, cuts: bool = True) -> list[Finding]:
    """Everything under root that breaks the rules (empty: it complies); `cuts`: also text cut off."""
    unit = unit_of(root)
    found: list[Finding] = []
    for label in labels(root):
        name = label.text.strip().replace("\n", " ")[:30]
        if cuts and cut_off(label):
            found.append(Finding("cut text", name, 0, 1))
        size = dp(label.font_size, unit)
        headline = getattr(label, "role", None) == "headline"
        wanted = MIN_HEADLINE_DP if headline else MIN_TEXT_DP
        if size < wanted - 0.05:
            found.append(Finding("headline size" if headline else "text size", name, size, wanted))
        wraps = (label.max_lines or 0) != 1 and not label.shorten
        if wraps and label.line_height < MIN_LINE_SPACING:
            found.append(Finding("line spacing", name, label.line_height, MIN_LINE_SPACING))
        behind = background_of(label)
        if behind is not None:
            ratio = contrast(label.color, behind)
            if ratio < MIN_CONTRAST:
                found.append(Finding("contrast", name, ratio, MIN_CONTRAST))
    for widget in root.walk(restrict=True):
        if isinstance(widget, ButtonBehavior) and visible(widget) and not widget.disabled:
            name = _name(widget)
            side = dp(min(widget.width, widget.height), unit)
            if side < MIN_TARGET_DP - 0.05:
                found.append(Finding("touch target", name, side, MIN_TARGET_DP))
    return found


def outside(area: Widget) -> list[str]:
    """The visible labels under `area` drawn (partly) outside it: a column whose fixed heights exceed the
    screen pushes its first rows over the header or off the screen."""
    left, bottom = area.to_window(area.x, area.y)
    right, top = area.to_window(area.right, area.top)
    out = []
    for label in labels(area):
        if _scrolled(label, area):
            continue  # a scrolling list clips its rows itself; they are reached by scrolling
        x0, y0 = label.to_window(label.x, label.y)
        x1, y1 = label.to_window(label.right, label.top)
        if x0 < left - 2 or y0 < bottom - 2 or x1 > right + 2 or y1 > top + 2:
            out.append(label.text.strip().replace("\n", " ")[:30])
    return out


def _scrolled(widget: Widget, area: Widget) -> bool:
    node: Any = widget.parent
    while isinstance(node, Widget) and node is not area:
        if isinstance(node, ScrollView):
            return True
        node = node.parent
    return False


def headlines(root: Widget) -> list[Label]:
    """The visible headlines under root."""
    return [label for label in labels(root) if getattr(label, "role", None) == "headline"]


def _name(widget: Widget) -> str:
    texts = [w.text for w in widget.walk(restrict=True) if isinstance(w, Label) and w.text]
    return (texts[0] if texts else type(widget).__name__)[:30]
