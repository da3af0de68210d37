"""The kiosk's frame: header (hall, clock, network), a banner (offline / after hours / printer), the current
screen, the time-out warning (a countdown with 继续), and a footer (返回, 首页, 呼叫工作人员, countdown, demo
card control). In 大字版 every part of it is large too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.terminal.flows import KioskFlows
from kiosk.terminal.screens import registry
from kiosk.terminal.screens.parts import (
    ACTION_ALT,
    CONFIRM,
    DANGER,
    ERROR_BG,
    ERROR_INK,
    WARN_BG,
    WARN_INK,
    Ctx,
    Para,
    button,
    card,
    column,
    text,
)
from kiosk.terminal.session import HOME, KioskState
from kiosk.ui import theme
from kiosk.ui.widgets import Panel, Text, rescale, spaced, wrapped_lines

BANNER_OFFLINE = theme.rgba("#8D3B00")
BANNER_CLOSED = theme.rgba("#37474F")
NET_OK = theme.rgba("#A5D6A7")  # on the header: 4.5:1 and more
NET_DOWN = theme.rgba("#FFAB91")


class KioskView(Panel):
    """The whole kiosk screen."""

    def __init__(self, flows: KioskFlows, demo: Callable[[], Widget | None] | None = None, **kwargs: Any) -> None:
        super().__init__(theme.BACKGROUND, orientation="vertical", **kwargs)
        self.flows = flows
        self.demo = demo
        self.header = spaced(Panel(theme.HEADER, size_hint_y=0.075), (32, 0), 16)
        self.hall = Text(flows.facts.name, px=46, bold=True, size_hint_x=0.44)
        self.network = Text("", px=30, halign="center", size_hint_x=0.2)
        self.clock = Text("", px=32, colour=theme.MUTED, halign="right", size_hint_x=0.36)
        for widget in (self.hall, self.network, self.clock):
            self.header.add_widget(widget)
        self.banner = spaced(Panel(BANNER_OFFLINE, size_hint_y=None, height=0), (32, 0))
        self.banner_text = Text("", px=34, bold=True, halign="center", lines=2)
        self.banner.add_widget(self.banner_text)
        self.content = spaced(BoxLayout(orientation="vertical"), (40, 24), 18)
        self.warning = spaced(Panel(WARN_BG, size_hint_y=None, height=0), (28, 10), 20)
        self.footer = spaced(Panel(theme.HEADER, size_hint_y=0.085), (28, 14), 20)
        for widget in (self.header, self.banner, self.content, self.warning, self.footer):
            self.add_widget(widget)
        self.shown: tuple[Any, ...] | None = None
        self.countdown: Text | None = None
        self.warning_text: Text | None = None
        self.bind(size=self._resized)

    @property
    def portrait(self) -> bool:
        """True on a tall screen."""
        return self.height > self.width

    def _resized(self, *_: Any) -> None:
        self.shown = None
        self.show(self.flows.state, force=True)

    def show(self, state: KioskState, force: bool = False) -> None:
        """Rebuild the screen when the state (or the layout) changed."""
        elderly = self.flows.session.elderly
        key = (state.version, elderly, self.portrait)
        if key == self.shown and not force:
            return
        self.shown = key
        ctx = Ctx(self.flows, state, self.portrait, elderly)
        self._header(ctx)
        self.content.clear_widgets()
        if state.error:
            self.content.add_widget(_error(ctx, state.error))
        self.content.add_widget(registry.build(ctx))
        if state.busy:
            self.content.add_widget(card(text(ctx, state.busy, px=44, halign="center"), size_hint_y=0.12))
        self._footer(ctx)
        self._warning(ctx)
        _keep_design_heights(self)
        rescale(self)

    def _header(self, ctx: Ctx) -> None:
        self.header.size_hint_y = 0.09 if ctx.elderly else 0.075
        self.content.size_hint_y = 1 - self.header.size_hint_y - (0.12 if ctx.elderly else 0.085)  # hints add to 1
        # 大字版: the header's small print grows to the minimum, the hall's name stays within its third
        self.hall.px, self.network.px, self.clock.px = (44, 34, 34) if ctx.elderly else (44, 30, 30)
        self.banner_text.px = ctx.px(34)

    def _footer(self, ctx: Ctx) -> None:
        self.footer.clear_widgets()
        self.footer.size_hint_y = 0.12 if ctx.elderly else 0.085
        self.footer.design_padding = (20, 8) if ctx.elderly else (28, 14)
        flows = self.flows
        home = ctx.state.screen == HOME
        if not home:
            self.footer.add_widget(button(ctx, "返回", ctx.tap(flows.back), ACTION_ALT, px=36, size_hint_x=0.16))
            self.footer.add_widget(button(ctx, "首页", ctx.tap(flows.home), ACTION_ALT, px=36, size_hint_x=0.16))
        self.countdown = text(ctx, "", px=26, colour=theme.MUTED, halign="center", size_hint_x=0.22)
        self.footer.add_widget(self.countdown)
        demo = self.demo() if self.demo else None
        if demo is not None:
            demo.px = ctx.px(22)
            self.footer.add_widget(demo)
        if not home:  # home has its own 呼叫工作人员 tile
            call = button(
                ctx,
                "呼叫工作人员",
                ctx.tap(flows.call_staff),
                DANGER,
                px=34,
                size_hint_x=0.3,
                bold=ctx.elderly,
            )
            self.footer.add_widget(call)

    def _warning(self, ctx: Ctx) -> None:
        """The time-out warning's contents (tick() shows or hides it)."""
        self.warning.clear_widgets()
        self.warning_text = text(ctx, "", px=36, bold=True, colour=WARN_INK, size_hint_x=0.66)
        self.warning.add_widget(self.warning_text)
        self.warning.add_widget(
            button(ctx, "继续", ctx.tap(self.flows.keep_going), CONFIRM, px=44, bold=True, size_hint_x=0.34)
        )
        self.warning.height = 0
        self.warning.opacity = 0
        self.warning.disabled = True

    def tick(
        self,
        clock: str,
        online: bool,
        banner: tuple[str, Any] | None,
        idle_left: float | None,
        warn: bool = False,
    ) -> None:
        """Once a second: the clock, the network dot, the banner, the countdown and the time-out warning."""
        self.clock.show(clock)
        self.network.show("● 网络正常" if online else "● 网络中断", NET_OK if online else NET_DOWN)
        short = min(self.width, self.height) or 1
        if banner is None:
            self.banner.height = 0
            self.banner_text.show("")
        else:  # as many lines as the text needs at its full size: never cut, never shrunk
            font, label = self.banner_text.design_font, self.banner_text
            free = self.width - self.banner.padding[0] - self.banner.padding[2] - 4
            lines = min(3, wrapped_lines(banner[0], font, free, label.font_name, bool(label.bold)))
            self.banner_text.max_lines = lines
            self.banner_text.fit_lines = lines
            self.banner.height = lines * font * 1.3 * 1.3 + short * 0.012
            self.banner.set_colour(banner[1])
            self.banner_text.show(banner[0])
        if self.countdown is not None:
            self.countdown.show(f"{int(idle_left)}秒后返回首页" if idle_left is not None else "")
        shown = warn and idle_left is not None
        if self.warning_text is not None:
            self.warning.height = short * (0.12 if self.flows.session.elderly else 0.09) if shown else 0
            self.warning.opacity = 1 if shown else 0
            self.warning.disabled = not shown
            left = int(idle_left or 0)
            self.warning_text.show(f"还需要时间吗？{left}秒后将返回首页并清除您的信息" if shown else "")


def _keep_design_heights(view: KioskView) -> None:
    """Fixed heights given at build time are design pixels: remember them so rescale() scales them (the
    banner and the warning are sized by tick(), wrapped text by its content)."""
    live = (view.banner, view.warning)
    for widget in view.walk(restrict=True):
        if widget.size_hint_y is not None or hasattr(widget, "design_height") or widget in live:
            continue
        if isinstance(widget, Para) or getattr(widget, "follows_content", False):
            continue
        widget.design_height = widget.height


def _error(ctx: Ctx, message: str) -> Widget:
    """The red panel above a screen; as tall as its message (a two-line message once ran out of it)."""
    para = Para(message, ctx.px(34), ERROR_INK)
    panel = card(para, colour=ERROR_BG, padding=(28, 12))
    holder = column(panel, size_hint_y=None, height=ctx.px(104))
    panel.size_hint_y = None
    panel.height = ctx.px(104)
    panel.follows_content = holder.follows_content = True  # sized from the text, not as a design height

    def grow(*_: Any) -> None:
        holder.height = panel.height = para.height + panel.padding[1] + panel.padding[3]

    para.bind(height=grow)
    return holder


__all__ = ["BANNER_CLOSED", "BANNER_OFFLINE", "KioskView"]
