"""Building blocks of the kiosk screens: the build context, buttons, paragraphs, lists and the QR code.
Import only after kiosk.ui.setup.prepare()."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import qrcode
from kivy.graphics.texture import Texture
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from kiosk.terminal.flows import KioskFlows
from kiosk.terminal.session import KioskState
from kiosk.ui import theme
from kiosk.ui.fonts import FONT_NAME
from kiosk.ui.widgets import LINE_SPACING, BigButton, Panel, Text, spaced

# Every colour pair on the kiosk reaches 4.5:1 (WCAG AA, MIIT 2021 适老化); kiosk.ui.access measures it.
ACTION = theme.rgba("#1565C0")
ACTION_ALT = theme.rgba("#00737D")
CONFIRM = theme.rgba("#2E7D32")
DANGER = theme.rgba("#C62828")
DISABLED = theme.rgba("#4A5A78")
GREEN_CHANNEL = theme.rgba("#1B5E20")
CARD = theme.rgba("#FFFFFF")
INK = theme.rgba("#10243F")
ERROR_BG = theme.rgba("#FFEBEE")
ERROR_INK = theme.rgba("#B71C1C")
WARN_BG = theme.rgba("#FFF3C4")
WARN_INK = theme.rgba("#3E2A00")
# 好差评 buttons: the evaluator's hues, darkened until white text on them reads at 4.5:1
LEVEL_COLOURS = {
    5: theme.rgba("#1B6E30"),
    4: theme.rgba("#2E7031"),
    3: theme.rgba("#1565C0"),
    2: theme.rgba("#A64B00"),
    1: theme.rgba("#B71C1C"),
}
ELDERLY_SCALE = 1.3
ELDERLY_MIN_PX = 30.0  # 大字版: no text below 30 design px (20 dp; the rule is 18 dp, see kiosk.ui.access)


@dataclass(frozen=True)
class Ctx:
    """What a screen builder gets: the flows to call, the state to draw, and the layout."""

    flows: KioskFlows
    state: KioskState
    portrait: bool
    elderly: bool

    def px(self, size: float) -> float:
        """A design size, larger in 大字版 (and never below its minimum there)."""
        return max(size * ELDERLY_SCALE, ELDERLY_MIN_PX) if self.elderly else size

    @property
    def per_page(self) -> int:
        """List rows per page: fewer choices in 大字版."""
        if self.elderly:
            return 4 if self.portrait else 3
        return 8 if self.portrait else 5

    def tap(self, action: Callable[..., Any], *args: Any) -> Callable[[Any], None]:
        """An on_press handler calling a flow."""
        return lambda *_: action(*args)


def button(
    ctx: Ctx, text: str, action: Callable[[Any], None] | None, colour: Any = ACTION, px: float = 44, **kwargs: Any
) -> BigButton:
    """A big flat button; without an action it is drawn disabled."""
    widget = BigButton(text, colour if action else DISABLED, px=ctx.px(px), **kwargs)
    if action is not None:
        widget.bind(on_release=action)
    return widget


def text(ctx: Ctx, value: str, px: float = 36, **kwargs: Any) -> Text:
    """A one-line label (shortened with … when too long)."""
    return Text(value, px=ctx.px(px), **kwargs)


def headline(ctx: Ctx, value: str, px: float = 52, **kwargs: Any) -> Text:
    """A screen's title (the 标题 the 适老化 rules size at ≥ 30 dp)."""
    kwargs.setdefault("size_hint_y", None)
    kwargs.setdefault("height", ctx.px(px) * 1.55)
    label = Text(value, px=ctx.px(px), bold=True, **kwargs)
    label.role = "headline"
    return label


class Para(Label):
    """Wrapped text whose height follows its content (inside a scrolling column)."""

    def __init__(self, value: str, px: float, colour: Any = theme.TEXT, bold: bool = False, **kwargs: Any) -> None:
        super().__init__(
            text=value,
            font_name=FONT_NAME,
            color=colour,
            bold=bold,
            size_hint_y=None,
            halign="left",
            valign="top",
            line_height=LINE_SPACING,
            **kwargs,
        )
        self.px = px
        self.font_size = px
        self.bind(width=self._wrap, texture_size=self._grow)

    def _wrap(self, *_: Any) -> None:
        self.text_size = (self.width, None)

    def _grow(self, *_: Any) -> None:
        self.height = self.texture_size[1] + 8


def scroll(children: Sequence[Widget], spacing: float = 14, **kwargs: Any) -> ScrollView:
    """A vertical column that scrolls when taller than its place."""
    column = spaced(BoxLayout(orientation="vertical", size_hint_y=None), (8, 8), spacing)
    column.follows_content = True
    column.bind(minimum_height=column.setter("height"))
    for child in children:
        column.add_widget(child)
    view = ScrollView(do_scroll_x=False, bar_width=10, **kwargs)
    view.add_widget(column)
    return view


def grid(cols: int, children: Sequence[Widget], spacing: float = 20, **kwargs: Any) -> GridLayout:
    """Tiles in a grid."""
    layout = spaced(GridLayout(cols=cols, **kwargs), spacing=spacing)
    for child in children:
        layout.add_widget(child)
    return layout


def column(*children: Widget, spacing: float = 18, **kwargs: Any) -> BoxLayout:
    """Children stacked vertically."""
    box = spaced(BoxLayout(orientation="vertical", **kwargs), spacing=spacing)
    for child in children:
        box.add_widget(child)
    return box


def row(*children: Widget, spacing: float = 18, **kwargs: Any) -> BoxLayout:
    """Children side by side."""
    box = spaced(BoxLayout(orientation="horizontal", **kwargs), spacing=spacing)
    for child in children:
        box.add_widget(child)
    return box


def tall(ctx: Ctx, design_height: float) -> dict[str, Any]:
    """The height of a message card: fixed in portrait; in landscape the height left over (a fixed height
    plus the 24-hour banner and 大字版 pushed the headline over the header)."""
    return {"size_hint_y": None, "height": ctx.px(design_height)} if ctx.portrait else {"size_hint_y": 6}


def card(*children: Widget, colour: Any = theme.PANEL, **kwargs: Any) -> Panel:
    """A rounded panel holding a column."""
    padding, spacing = kwargs.pop("padding", (28, 20)), kwargs.pop("spacing", 12)
    panel = spaced(Panel(colour, radius=18, orientation="vertical", **kwargs), padding, spacing)
    for child in children:
        panel.add_widget(child)
    return panel


def paged(
    ctx: Ctx, rows: Sequence[tuple[str, Callable[[Any], None] | None]], empty: str, per: int | None = None
) -> BoxLayout:
    """One page of choices with 上一页/下一页 (the page number lives in the session)."""
    per = per or ctx.per_page
    pages = max(1, (len(rows) + per - 1) // per)
    page = min(ctx.state.page, pages - 1)
    shown = rows[page * per : (page + 1) * per]
    buttons: list[Widget] = [button(ctx, label, action, px=40) for label, action in shown]
    if not rows:
        buttons = [text(ctx, empty, px=40, halign="center")]
    buttons += [Widget() for _ in range(per - len(buttons))]  # keep rows the same height on every page
    nav = row(
        button(ctx, "上一页", ctx.tap(ctx.flows.page, -1) if page > 0 else None, ACTION_ALT, px=36),
        text(ctx, f"第 {page + 1}/{pages} 页", px=34, halign="center"),
        button(ctx, "下一页", ctx.tap(ctx.flows.page, 1) if page < pages - 1 else None, ACTION_ALT, px=36),
        size_hint_y=None,
        height=ctx.px(96),
    )
    return column(grid(1, buttons, spacing=14), nav)


class QrCode(Image):
    """A QR code drawn from its text in memory (never written to disk)."""

    def __init__(self, data: str, **kwargs: Any) -> None:
        super().__init__(fit_mode="contain", **kwargs)
        maker = qrcode.QRCode(box_size=8, border=2)
        maker.add_data(data)
        maker.make(fit=True)
        picture = maker.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
        texture = Texture.create(size=picture.size, colorfmt="rgb")
        texture.blit_buffer(picture.tobytes(), colorfmt="rgb", bufferfmt="ubyte")
        texture.flip_vertical()
        texture.mag_filter = "nearest"
        self.texture = texture
        self.qr_data = data
