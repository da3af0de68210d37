"""服务评价 (好差评, 一次一评): find the visit (ID card → recent visits, or today's ticket number), rate it."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.terminal.screens import keys
from kiosk.terminal.screens.parts import CONFIRM, Ctx, button, card, column, paged, text
from kiosk.terminal.texts import LEVELS, when_text
from kiosk.ui import theme


def ask(ctx: Ctx) -> Widget:
    """Swipe a card, or type today's ticket number."""
    flows, state = ctx.flows, ctx.state
    title = text(ctx, "服务评价", px=52, bold=True, size_hint_y=None, height=ctx.px(80))
    hint = card(
        text(ctx, "刷身份证查看近期办事记录，或输入今天的排队号码", px=36, halign="center"),
        size_hint_y=None,
        height=ctx.px(110),
    )
    go = button(ctx, "评价这个号码", ctx.tap(flows.rate_ticket), CONFIRM, px=46, size_hint_y=None, height=ctx.px(120))
    pad = keys.keypad(ctx)
    pad.size_hint_y = 0.4
    return column(title, hint, keys.field(ctx, state.keypad, "排队号码，如 A012"), go, pad)


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
    title = text(ctx, "请选择要评价的办事记录", px=50, bold=True, size_hint_y=None, height=ctx.px(80))
    return column(title, paged(ctx, rows, "近7天没有您的办事记录"))


def rate(ctx: Ctx) -> Widget:
    """Five levels, 非常满意 first."""
    flows, data = ctx.flows, ctx.state.result or {}
    what = " · ".join(str(x) for x in (data.get("ticket"), data.get("item_name"), data.get("window_name")) if x)
    title = text(ctx, "您对本次服务满意吗？", px=54, bold=True, halign="center", size_hint_y=None, height=ctx.px(90))
    sub = text(ctx, what, px=36, colour=theme.MUTED, halign="center", size_hint_y=None, height=ctx.px(60))
    buttons = [
        button(
            ctx, label, ctx.tap(flows.rate, level) if not ctx.state.busy else None, theme.LEVEL_COLOURS[level], px=52
        )
        for level, label in LEVELS
    ]
    return column(title, sub, *buttons, spacing=16)


def thanks(ctx: Ctx) -> Widget:
    """Rated."""
    bad = (ctx.state.result or {}).get("is_bad")
    follow = "我们会在规定时间内联系您回访整改情况" if bad else "感谢您的评价，欢迎再次光临"
    return column(
        Widget(),
        text(ctx, "评价已提交", px=90, bold=True, colour=theme.TICKET, halign="center"),
        text(ctx, follow, px=42, halign="center"),
        Widget(),
    )
