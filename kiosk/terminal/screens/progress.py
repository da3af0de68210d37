"""进度查询: by ID card or by the serial number (统一业务流水号) typed on the keypad; then the cases."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.terminal.screens import keys
from kiosk.terminal.screens.parts import CONFIRM, Ctx, button, card, column, scroll, text
from kiosk.terminal.texts import when_text
from kiosk.ui import theme


def ask(ctx: Ctx) -> Widget:
    """Swipe a card, or type the serial number."""
    flows, state = ctx.flows, ctx.state
    title = text(ctx, "进度查询", px=52, bold=True, size_hint_y=None, height=ctx.px(80))
    hint = card(
        text(ctx, "刷身份证查询本人办件，或输入受理凭证上的办件流水号", px=36, halign="center"),
        size_hint_y=None,
        height=ctx.px(110),
    )
    go = button(
        ctx,
        "查询",
        ctx.tap(flows.query_progress) if not state.busy else None,
        CONFIRM,
        px=48,
        size_hint_y=None,
        height=ctx.px(120),
    )
    pad = keys.keypad(ctx)
    pad.size_hint_y = 0.4
    return column(title, hint, keys.field(ctx, state.keypad, "办件流水号"), go, pad)


def result(ctx: Ctx) -> Widget:
    """Each case: item, status, promised date, delivery."""
    cases = (ctx.state.result or {}).get("cases", [])
    title = text(ctx, f"查询结果（{len(cases)}件）", px=52, bold=True, size_hint_y=None, height=ctx.px(80))
    if not cases:
        return column(title, text(ctx, "没有查到办件记录。如有疑问请咨询工作人员或拨打12345", px=38), Widget())
    cards: list[Widget] = []
    for case in cases[: 3 if ctx.elderly else 10]:
        overdue = "（已超期，可拨打12345反映）" if case.get("overdue") else ""
        cards.append(
            card(
                text(ctx, str(case.get("item_name", "")), px=42, bold=True, colour=theme.TICKET),
                text(ctx, f"办理状态：{case.get('status', '')}{overdue}", px=36),
                text(ctx, f"承诺办结：{when_text(case.get('promised_date'))}  ·  {case.get('delivery') or ''}", px=32),
                text(ctx, f"流水号：{case.get('serial_no', '')}", px=26, colour=theme.MUTED),
                size_hint_y=None,
                height=ctx.px(240),
            )
        )
    return column(title, scroll(cards))
