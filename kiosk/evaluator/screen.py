"""The evaluator tablet's screen (Kivy). It draws an EvaluatorState and turns taps into controller calls;
every decision is the controller's."""

from __future__ import annotations

from typing import Any

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from kiosk.evaluator.controller import EvaluatorController, EvaluatorState
from kiosk.evaluator.levels import BAD_REASONS, INDICATORS, LEVELS, level
from kiosk.ui import theme
from kiosk.ui.widgets import BigButton, Panel, Text, rescale

SELECTED = theme.rgba("#E67700")
UNSELECTED = theme.rgba("#2A4A86")


class EvaluatorView(Panel):
    """Header plus one content area rebuilt per state."""

    def __init__(self, controller: EvaluatorController, hall_name: str = "", **kwargs: Any) -> None:
        super().__init__(theme.BACKGROUND, orientation="vertical", **kwargs)
        self.controller = controller
        self.hall_name = hall_name
        header = Panel(theme.HEADER, size_hint_y=0.12, padding=(36, 0))
        self.title = Text(px=44, bold=True, size_hint_x=0.6)
        self.staff = Text(px=40, colour=theme.MUTED, halign="right", size_hint_x=0.4)
        header.add_widget(self.title)
        header.add_widget(self.staff)
        self.add_widget(header)
        self.content = BoxLayout(orientation="vertical", padding=(40, 24), spacing=18, size_hint_y=0.88)
        self.add_widget(self.content)
        self.countdown: Text | None = None
        self.shown: tuple[str, int] | None = None
        self.bind(size=lambda *_: rescale(self))

    # --- drawing ---

    def show(self, state: EvaluatorState) -> None:
        """Draw a state (rebuilds the content when anything but the countdown changed)."""
        window = state.window
        self.title.show(f"{window.name} · 服务评价" if window else "服务评价")
        staff = window.staff_display_name if window else None
        self.staff.show(f"工作人员：{staff}" if staff else self.hall_name)
        key = (state.phase, state.version)
        if key == self.shown:
            return
        self.shown = key
        self.content.clear_widgets()
        self.countdown = None
        builder = {
            "idle": self._idle,
            "rating": self._rating,
            "detail": self._detail,
        }.get(state.phase, self._message)
        builder(state)
        rescale(self)

    def show_countdown(self, seconds: int | None) -> None:
        """Update the seconds left."""
        if self.countdown is None:
            return
        phase = self.controller.state.phase
        what = "自动提交" if phase == "detail" else "自动返回"
        self.countdown.show(f"{seconds}秒后{what}" if seconds is not None else "")

    def _add(self, *widgets: Widget) -> None:
        for widget in widgets:
            self.content.add_widget(widget)

    def _idle(self, state: EvaluatorState) -> None:
        window = state.window
        name = window.name if window else "服务评价"
        closed = window is not None and window.status != "open"
        self._add(
            Text(name, px=150, bold=True, halign="center", size_hint_y=0.34),
            Text(
                f"工作人员：{window.staff_display_name}" if window and window.staff_display_name else "",
                px=64,
                halign="center",
                size_hint_y=0.2,
            ),
            Text(
                "本窗口暂停服务" if closed else "欢迎您对我们的服务进行评价",
                px=52,
                colour=theme.PAUSED if closed else theme.NOTICE,
                halign="center",
                size_hint_y=0.2,
            ),
            Text(
                "办理结束后，请在此屏幕上为本次服务评价（一次一评）",
                px=38,
                colour=theme.MUTED,
                halign="center",
                size_hint_y=0.16,
            ),
            Text(self.hall_name, px=34, colour=theme.MUTED, halign="center", size_hint_y=0.1),
        )

    def _rating(self, state: EvaluatorState) -> None:
        prompt = state.prompt
        facts = []
        if prompt is not None:
            facts.append(f"号码 {prompt.ticket}")
            if prompt.item_name:
                facts.append(f"事项：{prompt.item_name}")
            if prompt.staff_display_name:
                facts.append(f"工作人员：{prompt.staff_display_name}")
        buttons = BoxLayout(spacing=20, size_hint_y=0.5)
        for item in LEVELS:
            button = BigButton(item.label, theme.LEVEL_COLOURS[item.wire], px=60)
            button.bind(on_release=lambda _b, wire=item.wire: self.controller.choose(wire))
            buttons.add_widget(button)
        self.countdown = Text(px=32, colour=theme.MUTED, halign="center", size_hint_y=0.1)
        self._add(
            Text("请您对本次服务进行评价", px=76, bold=True, halign="center", size_hint_y=0.2),
            Text("　".join(facts), px=38, colour=theme.MUTED, halign="center", size_hint_y=0.12),
            buttons,
            Text(
                "不满意、非常不满意为差评，我们将回访并整改",
                px=32,
                colour=theme.MUTED,
                halign="center",
                size_hint_y=0.08,
            ),
            self.countdown,
        )

    def _detail(self, state: EvaluatorState) -> None:
        chosen = level(state.level or 5)
        self._add(
            Text(f"您的评价：{chosen.label}", px=64, bold=True, colour=theme.NOTICE, halign="center", size_hint_y=0.13),
            Text("您还可以对以下方面评价（可选）", px=34, colour=theme.MUTED, size_hint_y=0.07),
        )
        for key, label in INDICATORS.items():
            row = BoxLayout(spacing=10, size_hint_y=0.1)
            row.add_widget(Text(label, px=36, size_hint_x=0.16))
            for item in LEVELS:
                on = state.indicators.get(key) == item.wire
                button = BigButton(item.label, SELECTED if on else UNSELECTED, px=30, size_hint_x=0.168)
                button.bind(on_release=lambda _b, k=key, w=item.wire: self.controller.set_indicator(k, w))
                row.add_widget(button)
            self._add(row)
        if chosen.bad:
            self._add(Text("请告诉我们不满意的原因（可多选）", px=34, colour=theme.MUTED, size_hint_y=0.07))
            grid = GridLayout(cols=3, spacing=10, size_hint_y=0.18)
            for reason in BAD_REASONS:
                on = reason in state.reasons
                button = BigButton(reason, SELECTED if on else UNSELECTED, px=32)
                button.bind(on_release=lambda _b, r=reason: self.controller.toggle_reason(r))
                grid.add_widget(button)
            self._add(grid)
        actions = BoxLayout(spacing=30, size_hint_y=0.14)
        back = BigButton("返回重选", UNSELECTED, px=44, size_hint_x=0.35)
        back.bind(on_release=lambda *_: self.controller.back())
        submit = BigButton("提交评价", theme.LEVEL_COLOURS[5], px=48, size_hint_x=0.65)
        submit.bind(on_release=lambda *_: self.controller.submit())
        actions.add_widget(back)
        actions.add_widget(submit)
        self.countdown = Text(px=30, colour=theme.MUTED, halign="center", size_hint_y=0.06)
        self._add(actions, Text(state.message, px=34, colour=theme.PAUSED, halign="center", size_hint_y=0.06))
        self._add(self.countdown)

    def _message(self, state: EvaluatorState) -> None:
        colour = theme.PAUSED if state.phase == "failed" else theme.NOTICE
        self._add(
            Widget(size_hint_y=0.2),
            Text(state.message, px=84, bold=True, colour=colour, halign="center", size_hint_y=0.4, lines=2),
            Text("祝您生活愉快" if state.phase == "thanks" else "", px=48, colour=theme.MUTED, halign="center"),
            Widget(size_hint_y=0.2),
        )
