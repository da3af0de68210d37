"""绿色通道: choose the reason (one big button each); then, where staff confirm it, a calm 请稍候 screen."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.terminal.green import REASONS
from kiosk.terminal.screens.parts import (
    ACTION_ALT,
    GREEN_CHANNEL,
    Ctx,
    button,
    card,
    column,
    grid,
    headline,
    tall,
    text,
)
from kiosk.ui import theme


def reasons(ctx: Ctx) -> Widget:
    """老年人 / 残疾人 / 孕妇 / 军人 / 行动不便: what gives priority here."""
    flows = ctx.flows
    check = flows.facts.green_staff_check
    hint = (
        "60周岁以上凭身份证直接取号；其他情况由工作人员现场核实后优先办理"
        if check
        else "请如实选择，工作人员会在窗口核实"
    )
    buttons = [button(ctx, label, ctx.tap(flows.choose_green, key), GREEN_CHANNEL, px=44) for key, label in REASONS]
    return column(
        headline(ctx, "绿色通道 · 请选择您的情况"),
        card(text(ctx, hint, px=32, lines=2, halign="center"), size_hint_y=None, height=ctx.px(130)),
        grid(1 if ctx.portrait else 2, buttons, spacing=18),
    )


def waiting(ctx: Ctx) -> Widget:
    """Staff were called to confirm the reason; the ticket comes here (or 取消请求: green.cancel, then home).
    After a decline or when nobody came in time: why, and a normal ticket with the same card."""
    flows = ctx.flows
    windows = flows.facts.green_windows()
    where = f"也可直接到{windows[0].floor}{windows[0].name}（绿色通道）办理" if windows else ""
    outcome = (ctx.state.result or {}).get("outcome")
    if outcome:
        return column(
            Widget(),
            card(
                headline(ctx, "绿色通道未能核实", px=60, colour=theme.TICKET, halign="center"),
                text(ctx, outcome, px=34, lines=3, halign="center"),
                text(ctx, where, px=30, colour=theme.MUTED, halign="center"),
                **tall(ctx, 420),
            ),
            button(ctx, "普通取号", ctx.tap(flows.green_normal_ticket), px=44, size_hint_y=None, height=ctx.px(130)),
            Widget(),
        )
    return column(
        Widget(),
        card(
            headline(ctx, "已通知工作人员", px=70, colour=theme.TICKET, halign="center"),
            text(ctx, f"绿色通道（{ctx.state.green or ''}）：请在原地稍候", px=40, halign="center"),
            text(ctx, "工作人员核实后，号码会显示在这里并打印", px=36, halign="center"),
            text(ctx, where, px=32, colour=theme.MUTED, halign="center"),
            **tall(ctx, 420),
        ),
        button(ctx, "不用了，取消请求", ctx.tap(flows.home), ACTION_ALT, px=40, size_hint_y=None, height=ctx.px(120)),
        Widget(),
    )
