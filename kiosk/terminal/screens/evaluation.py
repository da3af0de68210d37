"""服务评价 (好差评, 一次一评): prove the visit (the ID card that took the ticket → recent visits, or today's ticket
number with the rating code of the invitation), see its window, staff and item, then rate it."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.terminal.screens import keys
from kiosk.terminal.screens.parts import CONFIRM, LEVEL_COLOURS, Ctx, button, card, column, headline, paged, row, text
from kiosk.terminal.texts import LEVELS, when_text
from kiosk.ui import theme


def ask(ctx: Ctx) -> Widget:
    """Swipe the card that took the ticket, or type today's ticket number and the 6-digit rating code."""
    flows, state = ctx.flows, ctx.state
    title = headline(ctx, "服务评价")
    hint = card(
        text(ctx, "请刷取号时使用的身份证，或输入排队号码和评价短信中的6位评价码", px=34, halign="center", lines=2),
        size_hint_y=None,
        height=ctx.px(120),
    )
    go = button(ctx, "核验并评价", ctx.tap(flows.rate_ticket), CONFIRM, px=46, size_hint_y=None, height=ctx.px(110))
    field = keys.field(ctx, state.keypad, "号码+评价码，如 A012483920")
    if ctx.portrait:
        return column(title, hint, field, go, keys.keypad(ctx), Widget())
    return column(title, row(column(hint, field, go, Widget(), size_hint_x=0.36), _pad(ctx), spacing=24))


def visits(ctx: Ctx) -> Widget:
    """The person's recent visits; rated ones cannot be rated again."""
    flows = ctx.flows
    rows = []
    for v in (ctx.state.result or {}).get("visits", []):
        label = f"{when_text(v.get('ended_at'))} {v.get('ticket')} {v.get('item_name') or v.get('window_name')}"
        rows.append(
            (
                label + ("（已评价）" if v.get("rated") else ""),
                None if v.get("rated") else ctx.tap(flows.choose_visit, v.get("visit_id")),
            )
        )
    title = headline(ctx, "请选择要评价的办事记录", px=50)
    return column(title, paged(ctx, rows, "近7天没有您的办事记录"))


def rate(ctx: Ctx) -> Widget:
    """The checked visit (window, masked staff name, item), then five levels, 非常满意 first."""
    flows, data = ctx.flows, ctx.state.result or {}
    served = " · ".join(
        str(x) for x in (data.get("window_name"), data.get("staff") and f"工作人员 {data['staff']}") if x
    )
    what = " · ".join(str(x) for x in (data.get("ticket"), data.get("item_name")) if x)
    title = headline(ctx, "您对本次服务满意吗？", px=54, halign="center")
    sub = column(
        text(ctx, served, px=38, halign="center"),
        text(ctx, what, px=34, colour=theme.MUTED, halign="center"),
        size_hint_y=None,
        height=ctx.px(110),
    )
    buttons = [
        button(ctx, label, ctx.tap(flows.rate, level) if not ctx.state.busy else None, LEVEL_COLOURS[level], px=52)
        for level, label in LEVELS
    ]
    if ctx.portrait:
        return column(title, sub, *buttons, spacing=16)
    return column(title, sub, row(*buttons, spacing=16), Widget(size_hint_y=0.2))


def thanks(ctx: Ctx) -> Widget:
    """Rated."""
    bad = (ctx.state.result or {}).get("is_bad")
    follow = "我们会在规定时间内联系您回访整改情况" if bad else "感谢您的评价，欢迎再次光临"
    return column(
        Widget(),
        headline(ctx, "评价已提交", px=90, colour=theme.TICKET, halign="center"),
        text(ctx, follow, px=42, halign="center"),
        Widget(),
    )


def _pad(ctx: Ctx) -> Widget:
    pad = keys.keypad(ctx)
    pad.size_hint_x = 0.64
    return pad
