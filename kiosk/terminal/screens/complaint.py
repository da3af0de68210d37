"""反映问题: the kind (办不成事 / 投诉), what went wrong (a list: a kiosk has no Chinese input), an optional
mobile number on the keypad; then the reference and the date an answer is due."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.terminal.complaints import KINDS, REASONS
from kiosk.terminal.screens import keys
from kiosk.terminal.screens.parts import ACTION, CONFIRM, DISABLED, Ctx, button, card, column, grid, headline, row, text
from kiosk.ui import theme


def ask(ctx: Ctx) -> Widget:
    """Choose, optionally type a number, submit."""
    flows, state = ctx.flows, ctx.state
    form = state.result or {}
    kinds = row(
        *[
            button(
                ctx, label, ctx.tap(flows.complaint_kind, kind), ACTION if form.get("kind") == kind else DISABLED, px=40
            )
            for kind, label in KINDS
        ],
        size_hint_y=None,
        height=ctx.px(80),
    )
    # The list takes the height left (fixed rows, with 大字版 and the 24-hour banner, pushed the headline off
    # the top of the screen).
    reasons = grid(
        2,
        [
            button(
                ctx,
                ("✓ " if form.get("reason") == i else "") + reason,
                ctx.tap(flows.complaint_reason, i),
                ACTION if form.get("reason") == i else DISABLED,
                px=34,
            )
            for i, reason in enumerate(REASONS)
        ],
        spacing=12,
    )
    go = button(
        ctx,
        "提交",
        ctx.tap(flows.submit_complaint) if not state.busy else None,
        CONFIRM,
        px=48,
        size_hint_y=None,
        height=ctx.px(96),
    )
    phone = keys.field(ctx, state.keypad, "手机号码（选填，便于答复）")
    hint = text(
        ctx,
        "需要书面答复或详细说明，请到办不成事反映窗口",
        px=30,
        colour=theme.MUTED,
        halign="center",
        size_hint_y=None,
        height=ctx.px(50),
    )
    if ctx.portrait:
        return column(headline(ctx, "反映问题"), kinds, reasons, phone, keys.keypad(ctx, letters=False), go, hint)
    left = column(kinds, reasons, size_hint_x=0.56)
    right = column(phone, keys.keypad(ctx, letters=False), go, hint, Widget(), size_hint_x=0.44)
    return column(headline(ctx, "反映问题"), row(left, right, spacing=24))


def done(ctx: Ctx) -> Widget:
    """The reference and the due date."""
    data = ctx.state.result or {}
    return column(
        Widget(),
        card(
            headline(ctx, "已受理", px=72, colour=theme.TICKET, halign="center"),
            text(ctx, f"编号：{data.get('reference', '')}", px=48, bold=True, halign="center"),
            text(ctx, str(data.get("message", "")), px=34, halign="center", lines=3),
            size_hint_y=None,
            height=ctx.px(420),
        ),
        Widget(),
    )
