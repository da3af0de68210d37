"""预约办事: the bookable days of the chosen item, the slots of one day with free seats, then the booking code
(shown large, printed on the kiosk's printer)."""

from __future__ import annotations

from datetime import date, datetime

from kivy.uix.widget import Widget

from kiosk.terminal.screens.contact import sms_button
from kiosk.terminal.screens.parts import (
    ACTION,
    ACTION_ALT,
    CONFIRM,
    ERROR_BG,
    ERROR_INK,
    Ctx,
    Para,
    button,
    card,
    column,
    grid,
    headline,
    row,
    text,
)
from kiosk.terminal.texts import WEEKDAYS
from kiosk.ui import theme
from kiosk.ui.widgets import Text

DAYS_SHOWN = 7


def _day_label(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day.month}月{day.day}日 周{WEEKDAYS[day.weekday()]}"


def slots(ctx: Ctx) -> Widget:
    """Days across the top (those with seats), the chosen day's slots below."""
    flows, data = ctx.flows, ctx.state.result or {}
    chosen = ctx.state.day
    days = data.get("days", [])[:DAYS_SHOWN]
    day_buttons = [
        button(
            ctx,
            _day_label(d["date"]) + ("" if d["free"] else " 约满"),
            ctx.tap(flows.booking_slots, d["date"]) if d["free"] and d["date"] != chosen else None,
            ACTION if d["date"] == chosen else ACTION_ALT,
            px=30,
        )
        for d in days
    ]
    for b, d in zip(day_buttons, days, strict=True):
        b.day = d["date"]
        b.chosen = d["date"] == chosen
        if d["date"] == chosen:
            b.background_color = ACTION  # the day shown is marked, not greyed out
    free = [s for s in data.get("slots", []) if s.get("free", 0) > 0]
    slot_buttons = [
        button(
            ctx,
            f"{datetime.fromisoformat(s['start']):%H:%M}–{datetime.fromisoformat(s['end']):%H:%M}  余{s['free']}",
            ctx.tap(flows.book, s["start"]) if not ctx.state.busy else None,
            CONFIRM,
            px=34,
        )
        for s in free
    ]
    cols = 2 if ctx.elderly else 3
    per = (6 if ctx.portrait else 4) if ctx.elderly else (12 if ctx.portrait else 9)
    if ctx.elderly and not ctx.portrait:
        cols = 4
    page = min(ctx.state.page, max(0, (len(slot_buttons) - 1) // per))
    shown = slot_buttons[page * per : (page + 1) * per]
    shown += [Widget() for _ in range(per - len(shown))]
    nav = row(
        button(ctx, "上一页", ctx.tap(flows.page, -1) if page > 0 else None, ACTION_ALT, px=34),
        text(
            ctx,
            f"{_day_label(chosen) if chosen else ''}：{len(free)}个时段可约",
            px=32,
            halign="center",
            size_hint_x=2,  # between the page buttons: the date and the count stay whole
        ),
        button(
            ctx, "下一页", ctx.tap(flows.page, 1) if (page + 1) * per < len(slot_buttons) else None, ACTION_ALT, px=34
        ),
        size_hint_y=None,
        height=ctx.px(96),
    )
    body: Widget
    if not days:
        body = card(text(ctx, "该事项近期没有可预约的时段，请到大厅现场取号办理", px=36, lines=2), size_hint_y=0.3)
    elif not free:
        body = card(text(ctx, "这一天已约满，请选择其他日期", px=38, halign="center"), size_hint_y=0.3)
    else:
        body = column(grid(cols, shown, spacing=14), nav)
    per_row = 4 if ctx.portrait else 7
    strip = grid(min(len(day_buttons), per_row) or 1, day_buttons, spacing=12, size_hint_y=None)
    strip.height = -(-len(day_buttons) // per_row) * ctx.px(100) if day_buttons else 0
    return column(
        headline(ctx, f"预约 · {data.get('item_name', '')}"),
        text(
            ctx,
            "选择日期，再点一个时段完成预约（需已刷身份证）",
            px=30,
            colour=theme.MUTED,
            size_hint_y=None,
            height=ctx.px(48),
        ),
        strip,
        body,
    )


def booked(ctx: Ctx) -> Widget:
    """The booking code, large; when to come; whether it was printed."""
    data, state = ctx.state.result or {}, ctx.state
    start = datetime.fromisoformat(data["slot_start"]) if data.get("slot_start") else None
    end = datetime.fromisoformat(data["slot_end"]) if data.get("slot_end") else None
    when = f"{start.month}月{start.day}日 {start:%H:%M}–{end:%H:%M}" if start and end else ""
    frm = datetime.fromisoformat(data["checkin_from"]) if data.get("checkin_from") else None
    until = datetime.fromisoformat(data["checkin_until"]) if data.get("checkin_until") else None
    checkin = f"请于 {frm:%H:%M}–{until:%H:%M} 携带身份证到自助机签到" if frm and until else ""
    code = card(
        text(ctx, "预约成功，您的预约码", px=40, colour=theme.MUTED, halign="center"),
        Text(str(data.get("code", "")), px=140, bold=True, colour=theme.TICKET, halign="center", size_hint_y=2.4),
        text(ctx, str(data.get("item_name", "")), px=40, halign="center"),
        text(ctx, f"预约时段：{when}", px=40, halign="center"),
        text(ctx, checkin, px=34, halign="center"),
        size_hint_y=0.56,
    )
    code.booking_code = data.get("code")
    if state.notice:
        slip: Widget = card(
            text(ctx, "预约凭条未能打印", px=40, bold=True, colour=ERROR_INK),
            Para(f"{state.notice}。签到时刷身份证即可，无需预约码", ctx.px(30), ERROR_INK),
            colour=ERROR_BG,
            size_hint_y=0.26,
        )
    else:
        slip = card(
            text(ctx, "预约凭条正在打印，请在下方出纸口取走", px=36, bold=True, halign="center"),
            text(ctx, "签到时刷身份证即可；多次预约未到会暂停预约", px=28, colour=theme.MUTED, halign="center"),
            size_hint_y=0.26,
        )
    parts: list[Widget] = [headline(ctx, "预约办事"), code, slip]
    if ctx.flows.offer_contact():  # 短信提醒 (issue 16): optional; in landscape beside the title (no height left)
        sms = sms_button(ctx)
        if ctx.portrait:
            parts.append(sms)
        else:
            sms.size_hint_x = 0.8
            parts[0] = row(parts[0], sms, size_hint_y=None, height=max(parts[0].height, sms.height))
    return column(*parts, Widget(size_hint_y=0.04))
