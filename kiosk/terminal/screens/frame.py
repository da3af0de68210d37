"""The kiosk's frame: header (hall, clock, network), a banner (offline / after hours / printer), the current
screen, and a footer (返回, 首页, 呼叫工作人员, countdown, demo card control)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.terminal.flows import KioskFlows
from kiosk.terminal.screens import registry
from kiosk.terminal.screens.parts import ACTION_ALT, DANGER, ERROR_BG, ERROR_INK, Ctx, button, card, column, text
from kiosk.terminal.session import HOME, KioskState
from kiosk.ui import theme
from kiosk.ui.widgets import Panel, Text, rescale

BANNER_OFFLINE = theme.rgba("#8D3B00")
BANNER_CLOSED = theme.rgba("#37474F")


class KioskView(Panel):
    """The whole kiosk screen."""

    def __init__(self, flows: KioskFlows, demo: Callable[[], Widget | None] | None = None, **kwargs: Any) -> None:
        super().__init__(theme.BACKGROUND, orientation="vertical", **kwargs)
        self.flows = flows
        self.demo = demo
        header = Panel(theme.HEADER, size_hint_y=0.075, padding=(32, 0), spacing=16)
        self.hall = Text(flows.facts.name, px=46, bold=True, size_hint_x=0.5)
        self.network = Text("", px=30, halign="center", size_hint_x=0.18)
        self.clock = Text("", px=32, colour=theme.MUTED, halign="right", size_hint_x=0.32)
        for widget in (self.hall, self.network, self.clock):
            header.add_widget(widget)
        self.banner = Panel(BANNER_OFFLINE, size_hint_y=None, height=0, padding=(32, 0))
        self.banner_text = Text("", px=34, bold=True, halign="center")
        self.banner.add_widget(self.banner_text)
        self.content = BoxLayout(orientation="vertical", padding=(40, 24), spacing=18)
        self.footer = Panel(theme.HEADER, size_hint_y=0.085, padding=(28, 14), spacing=20)
        for widget in (header, self.banner, self.content, self.footer):
            self.add_widget(widget)
        self.shown: tuple[Any, ...] | None = None
        self.countdown: Text | None = None
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
        key = (state.version, self.flows.session.elderly, self.portrait)
        if key == self.shown and not force:
            return
        self.shown = key
        ctx = Ctx(self.flows, state, self.portrait, self.flows.session.elderly)
        self.content.clear_widgets()
        if state.error:
            self.content.add_widget(_error(ctx, state.error))
        self.content.add_widget(registry.build(ctx))
        if state.busy:
            self.content.add_widget(card(text(ctx, state.busy, px=44, halign="center"), size_hint_y=0.12))
        self._footer(ctx)
        rescale(self)

    def _footer(self, big: Ctx) -> None:
        self.footer.clear_widgets()
        ctx = Ctx(big.flows, big.state, big.portrait, elderly=False)  # the footer keeps its size in 大字版
        flows = self.flows
        home = ctx.state.screen == HOME
        if not home:
            self.footer.add_widget(button(ctx, "返回", ctx.tap(flows.back), ACTION_ALT, px=36, size_hint_x=0.16))
            self.footer.add_widget(button(ctx, "首页", ctx.tap(flows.home), ACTION_ALT, px=36, size_hint_x=0.16))
        self.countdown = text(ctx, "", px=24, colour=theme.MUTED, halign="center", size_hint_x=0.2)
        self.footer.add_widget(self.countdown)
        demo = self.demo() if self.demo else None
        if demo is not None:
            self.footer.add_widget(demo)
        if not home:  # home has its own 呼叫工作人员 tile
            call = button(
                ctx,
                "呼叫工作人员",
                ctx.tap(flows.call_staff),
                DANGER,
                px=40 if big.elderly else 34,
                size_hint_x=0.28,
                bold=big.elderly,
            )
            self.footer.add_widget(call)

    def tick(self, clock: str, online: bool, banner: tuple[str, Any] | None, idle_left: float | None) -> None:
        """Once a second: the clock, the network dot, the banner and the countdown."""
        self.clock.show(clock)
        self.network.show("● 网络正常" if online else "● 网络中断", theme.OPEN if online else theme.CLOSED)
        if banner is None:
            self.banner.height = 0
            self.banner_text.show("")
        else:
            self.banner.height = self.height * 0.05
            self.banner.set_colour(banner[1])
            self.banner_text.show(banner[0])
        if self.countdown is not None:
            self.countdown.show(f"{int(idle_left)}秒后返回首页" if idle_left is not None else "")


def _error(ctx: Ctx, message: str) -> Widget:
    panel = card(text(ctx, message, px=36, colour=ERROR_INK, halign="center"), colour=ERROR_BG)
    panel.size_hint_y = None
    panel.height = ctx.px(96)
    return column(panel, size_hint_y=None, height=ctx.px(96))


__all__ = ["BANNER_CLOSED", "BANNER_OFFLINE", "KioskView"]
