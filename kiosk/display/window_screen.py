"""The window display (Kivy): window name, the ticket being served (large), the staff card, the window's
status, a notice line. It only draws a WindowScreen; it never decides what to show."""

from __future__ import annotations

from typing import Any

from kiosk.display.fit import fitting_size
from kiosk.display.marquee import Marquee
from kiosk.display.views import WindowScreen
from kiosk.ui import theme
from kiosk.ui.widgets import DESIGN_SHORT_SIDE, Panel, Text, rescale

STATUS_COLOURS = {"paused": theme.PAUSED, "closed": theme.CLOSED, "unknown": theme.MUTED}


class WindowDisplayView(Panel):
    """Landscape layout; sizes follow the screen's short side."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(theme.BACKGROUND, orientation="vertical", **kwargs)
        self.hall = Text(px=34, colour=theme.MUTED)
        self.window_name = Text(px=84, bold=True, halign="center")
        self.clock = Text(px=32, colour=theme.MUTED, halign="right")
        header = Panel(theme.HEADER, size_hint_y=0.15, padding=(40, 0), spacing=20)
        header.add_widget(_sized(self.hall, 0.32))
        header.add_widget(_sized(self.window_name, 0.36))
        header.add_widget(_sized(self.clock, 0.32))
        self.add_widget(header)

        body = Panel(theme.BACKGROUND, size_hint_y=0.72, padding=30, spacing=30)
        serving = Panel(theme.PANEL, orientation="vertical", size_hint_x=0.56, padding=20, radius=16)
        self.caption = Text(px=48, colour=theme.MUTED, halign="center", size_hint_y=0.2)
        # px 0: rescale() leaves it alone, _fit_ticket sizes it (design size, smaller when the text is wider)
        self.ticket = Text(px=0, colour=theme.TICKET, bold=True, halign="center", size_hint_y=0.6)
        self.ticket_px = 300.0
        self.ticket.bind(size=self._fit_ticket)
        self.reason = Text(px=40, colour=theme.TEXT, halign="center", size_hint_y=0.2, lines=2)
        for widget in (self.caption, self.ticket, self.reason):
            serving.add_widget(widget)
        body.add_widget(serving)

        card = Panel(theme.PANEL_ALT, orientation="vertical", size_hint_x=0.44, padding=(36, 24), radius=16)
        self.staff_title = Text("工作人员", px=34, colour=theme.MUTED, size_hint_y=0.14)
        self.staff = Text(px=110, bold=True, size_hint_y=0.3)
        self.duties = Text(px=38, size_hint_y=0.2, lines=2)
        self.contact = Text(px=38, size_hint_y=0.14)
        self.groups = Text(px=34, colour=theme.MUTED, size_hint_y=0.22, lines=2)
        for widget in (self.staff_title, self.staff, self.duties, self.contact, self.groups):
            card.add_widget(widget)
        body.add_widget(card)
        self.add_widget(body)

        self.footer = Panel(theme.HEADER, size_hint_y=0.13, padding=(40, 0))
        self.notice = Marquee(px=40, colour=theme.NOTICE)  # a long notice scrolls instead of being cut
        self.footer.add_widget(self.notice)
        self.add_widget(self.footer)
        # Paddings and gaps are design pixels too: on a small screen (the demo's half-size window) they shrink
        # with the text, or the staff card's lines lose their width and wrap out of their boxes.
        self._boxes = [(box, tuple(box.padding), float(box.spacing)) for box in (header, body, serving, card)]
        self._boxes.append((self.footer, tuple(self.footer.padding), float(self.footer.spacing)))
        self.bind(size=self._resize)

    def _resize(self, *_: Any) -> None:
        unit = min(self.width, self.height) / DESIGN_SHORT_SIDE
        if unit > 0:
            for box, padding, spacing in self._boxes:
                box.padding = [v * unit for v in padding]
                box.spacing = spacing * unit
        rescale(self)

    def show(self, data: WindowScreen) -> None:
        """Draw one WindowScreen."""
        self.hall.show(data.hall_name)
        self.window_name.show(data.window_name)
        self.clock.show(data.clock)
        self.caption.show(data.caption)
        if data.status == "open":
            self.ticket_px = 300 if len(data.serving) <= 4 else 240
            self.ticket.show(data.serving or "—", theme.TICKET)
            self.reason.show(data.call_line, theme.NOTICE)  # 请A001号到5号窗口 until service starts
        else:
            self.ticket_px = 170
            self.ticket.show(data.status_text, STATUS_COLOURS.get(data.status, theme.MUTED))
            reason = f"原因：{data.status_reason}\n" if data.status_reason else ""
            self.reason.show(f"{reason}请到其他窗口办理", theme.TEXT)
        self.staff.show(data.staff_name or "—")
        self.duties.show(data.duties)
        self.contact.show(data.contact)
        self.groups.show(data.groups)
        offline = "（与服务器的连接已中断，显示的可能不是最新状态）" if data.offline else ""
        self.notice.show(offline + data.notice, theme.OFFLINE if data.offline else theme.NOTICE)
        rescale(self)
        self._fit_ticket()

    def _fit_ticket(self, *_: Any) -> None:
        """The big number at its design size for this screen, or as large as fits its box (A1000 is not cut)."""
        unit = min(self.width, self.height) / DESIGN_SHORT_SIDE
        if unit > 0:
            self.ticket.font_size = fitting_size(self.ticket.text, self.ticket_px * unit, self.ticket.width)


def _sized(widget: Text, share: float) -> Text:
    widget.size_hint_x = share
    return widget
