"""The hall display (Kivy): latest calls (newest highlighted, recalls marked 重呼), waiting and estimated
wait per group, clock, opening hours or the 24-hour notice, a manager's notice. Landscape and portrait."""

from __future__ import annotations

from typing import Any, ClassVar

from kivy.uix.boxlayout import BoxLayout

from kiosk.display.fit import fitting_size
from kiosk.display.marquee import Marquee
from kiosk.display.views import CallRow, HallScreen, QueueRow
from kiosk.ui import theme
from kiosk.ui.widgets import Panel, Text, rescale


class CallLine(Panel):
    """One row of the latest calls: [重呼] A012 请到 3号窗口."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(theme.PANEL, radius=10, padding=(24, 0), spacing=16, **kwargs)
        self.tag = Text(px=34, colour=theme.RECALL, halign="center", bold=True, size_hint_x=0.14)
        self.ticket = Text(px=72, colour=theme.TICKET, bold=True, halign="center", size_hint_x=0.3)
        self.to = Text(px=44, colour=theme.MUTED, halign="center", size_hint_x=0.14)
        self.window = Text(px=64, bold=True, size_hint_x=0.42)
        for widget in (self.tag, self.ticket, self.to, self.window):
            widget.px = 0  # sized by the row instead: rows share the panel's height
            widget.bind(size=self._fit)
            self.add_widget(widget)
        self.bind(size=self._fit)

    # (share of the row's height, widths in em the column must hold: 重呼, A012, 请到, 20号窗口)
    FIT: ClassVar[dict[str, tuple[float, float]]] = {
        "tag": (0.36, 2.3),
        "ticket": (0.72, 2.8),
        "to": (0.42, 2.3),
        "window": (0.64, 4.6),
    }

    def _fit(self, *_: Any) -> None:
        for name, (share, ems) in self.FIT.items():
            widget = getattr(self, name)
            widget.font_size = max(10.0, min(self.height * share, widget.width / ems))
        # A number wider than A012 (A1000, AB1000) gets smaller rather than cut to "A10…".
        self.ticket.font_size = fitting_size(self.ticket.text, self.ticket.font_size, self.ticket.width, floor=10.0)

    def show(self, row: CallRow | None) -> None:
        """Draw a call, or an empty row."""
        if row is None:
            self.set_colour(theme.PANEL_ALT)
            for text in (self.tag, self.ticket, self.to, self.window):
                text.show("")
            return
        self.set_colour(theme.HIGHLIGHT if row.newest else theme.PANEL)
        self.tag.show("重呼" if row.recall else "", theme.TEXT if row.newest else theme.RECALL)
        self.ticket.show(row.ticket, theme.TEXT if row.newest else theme.TICKET)
        self.to.show("请到", theme.TEXT if row.newest else theme.MUTED)
        self.window.show(row.window_name)
        self._fit()


class QueueLine(Panel):
    """One row of the queue table: A | 公安服务 | 12人 | 约15分钟."""

    def __init__(self, header: bool = False, **kwargs: Any) -> None:
        super().__init__(theme.HEADER if header else theme.PANEL_ALT, radius=8, padding=(16, 0), spacing=10, **kwargs)
        colour = theme.MUTED if header else theme.TEXT
        self.prefix = Text(px=38, colour=theme.MUTED if header else theme.TICKET, bold=not header, size_hint_x=0.1)
        self.name = Text(px=38, colour=colour, size_hint_x=0.5)
        self.waiting = Text(px=38, colour=theme.MUTED if header else theme.TICKET, halign="center", size_hint_x=0.15)
        self.wait = Text(px=36, colour=colour, halign="right", size_hint_x=0.25)
        for widget in (self.prefix, self.name, self.waiting, self.wait):
            self.add_widget(widget)
        if header:
            titles = ("号", "业务", "等候", "预计等候")
            for widget, text in zip((self.prefix, self.name, self.waiting, self.wait), titles, strict=True):
                widget.show(text)

    def show(self, row: QueueRow) -> None:
        """Draw one group."""
        self.prefix.show(row.prefix)
        self.name.show(row.name)
        self.waiting.show(f"{row.waiting}人")
        self.wait.show(row.wait)


class HallDisplayView(Panel):
    """The whole hall screen; `portrait` stacks calls above queues."""

    def __init__(self, rows: int = 8, portrait: bool = False, **kwargs: Any) -> None:
        super().__init__(theme.BACKGROUND, orientation="vertical", **kwargs)
        self.portrait = portrait
        header = Panel(theme.HEADER, size_hint_y=0.08 if portrait else 0.11, padding=(40, 0))
        self.hall = Text(px=56, bold=True, size_hint_x=0.62)
        clock = BoxLayout(orientation="vertical", size_hint_x=0.38, padding=(0, 8))
        self.date = Text(px=32, colour=theme.MUTED, halign="right", size_hint_y=0.42)
        self.time = Text(px=52, bold=True, halign="right", size_hint_y=0.58)
        clock.add_widget(self.date)
        clock.add_widget(self.time)
        header.add_widget(self.hall)
        header.add_widget(clock)
        self.add_widget(header)

        self.banner = Panel(theme.PANEL, size_hint_y=0.05 if portrait else 0.07, padding=(40, 0))
        self.notice = Marquee(px=40, colour=theme.NOTICE)  # a long notice scrolls instead of being cut
        self.banner.add_widget(self.notice)
        self.add_widget(self.banner)

        body = Panel(
            theme.BACKGROUND,
            orientation="vertical" if portrait else "horizontal",
            size_hint_y=0.77 if portrait else 0.69,
            padding=24,
            spacing=24,
        )
        calls = Panel(
            theme.BACKGROUND, orientation="vertical", spacing=10, size_hint=(1, 0.58) if portrait else (0.6, 1)
        )
        calls.add_widget(Text("叫号信息", px=48, bold=True, size_hint_y=None, height=70))
        self.call_lines = [CallLine() for _ in range(rows)]
        self.call_lines[0].size_hint_y = 2  # the newest call is twice as tall as the others
        for line in self.call_lines:
            calls.add_widget(line)
        body.add_widget(calls)
        queues = Panel(
            theme.BACKGROUND, orientation="vertical", spacing=8, size_hint=(1, 0.42) if portrait else (0.4, 1)
        )
        queues.add_widget(Text("等候情况", px=48, bold=True, size_hint_y=None, height=70))
        queues.add_widget(QueueLine(header=True))
        self.queue_box = queues
        self.queue_lines: list[QueueLine] = []
        body.add_widget(queues)
        self.add_widget(body)

        footer = Panel(theme.HEADER, orientation="vertical", size_hint_y=0.1 if portrait else 0.13, padding=(40, 8))
        self.hours = Text(px=32, colour=theme.TEXT, lines=2, size_hint_y=0.62)
        self.self_service = Text(px=30, colour=theme.NOTICE, size_hint_y=0.38)
        footer.add_widget(self.hours)
        footer.add_widget(self.self_service)
        self.add_widget(footer)
        self.bind(size=lambda *_: rescale(self))

    def _queue_rows(self, count: int) -> None:
        while len(self.queue_lines) < count:
            line = QueueLine()
            self.queue_lines.append(line)
            self.queue_box.add_widget(line)
        while len(self.queue_lines) > count:
            self.queue_box.remove_widget(self.queue_lines.pop())

    def show(self, data: HallScreen) -> None:
        """Draw one HallScreen."""
        self.hall.show(data.hall_name)
        self.date.show(data.date)
        self.time.show(data.time)
        if data.offline:
            self.notice.show("与服务器的连接已中断，叫号信息可能不是最新的", theme.PAUSED)
        elif data.notice:
            self.notice.show(f"通知：{data.notice}", theme.NOTICE)
        else:
            self.notice.show(f"欢迎来到{data.hall_name}，取号后请留意叫号信息", theme.MUTED)
        for i, line in enumerate(self.call_lines):
            line.show(data.calls[i] if i < len(data.calls) else None)
        rows_before = len(self.queue_lines)
        self._queue_rows(len(data.queues))
        for line, row in zip(self.queue_lines, data.queues, strict=True):
            line.show(row)
        first, rest = (data.hours[0], data.hours[1:]) if data.hours else ("", ())
        joiner = "\n" if self.portrait else "　"
        self.hours.show(f"办公时间：{first}{joiner}{'　'.join(rest)}" if first else "")
        self.self_service.show(data.self_service)
        if rows_before != len(self.queue_lines):
            rescale(self)
