"""进度查询: by ID card or by the serial number (统一业务流水号) typed on the keypad; then the cases."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.terminal.screens import keys
from kiosk.terminal.screens.parts import CONFIRM, Ctx, button, card, column, headline, row, scroll, text
from kiosk.terminal.texts import when_text
from kiosk.ui import theme


def ask(ctx: Ctx) -> Widget:
    """Swipe a card, or type the serial number."""
    flows, state = ctx.flows, ctx.state
    title = headline(ctx, "进度查询")
    hint = card(
        text(ctx, "刷身份证查询本人办件，或输入受理凭证上的办件流水号", px=34, halign="center", lines=2),
        size_hint_y=None,
        height=ctx.px(120),
    )
    go = button(
        ctx,
        "查询",
        ctx.tap(flows.query_progress) if not state.busy else None,
        CONFIRM,
        px=48,
        size_hint_y=None,
        height=ctx.px(110),
    )
    parts: list[Widget] = [hint]
    if state.notice:
        parts.append(text(ctx, state.notice, px=32, colour=theme.NOTICE, size_hint_y=None, height=ctx.px(50)))
    parts += [keys.field(ctx, state.keypad, "办件流水号"), go]
    if ctx.portrait:
        return column(title, *parts, keys.keypad(ctx), Widget())
    return column(title, row(column(*parts, Widget(), size_hint_x=0.36), _pad(ctx), spacing=24))


def result(ctx: Ctx) -> Widget:
    """Each case: item, status, promised date, delivery."""
    data = ctx.state.result or {}
    cases = data.get("cases", [])
    title = headline(ctx, f"查询结果（{len(cases)}件）")
    if not cases:
        serial = data.get("serial")
        what = f"没有查到流水号为 {serial} 的办件" if serial else "没有查到您的办件记录"
        return column(
            title,
            card(
                text(ctx, what, px=40, bold=True, colour=theme.NOTICE, lines=2),
                text(ctx, "请核对受理凭证上的流水号后重试；如有疑问请咨询工作人员或拨打12345", px=32, lines=2),
                size_hint_y=None,
                height=ctx.px(260),
            ),
            Widget(),
        )
    cards: list[Widget] = []
    for case in cases[: 3 if ctx.elderly else 10]:
        overdue = "（已超期，可拨打12345反映）" if case.get("overdue") else ""
        steps = [str(h.get("status", "")) for h in case.get("history") or [] if isinstance(h, dict)]
        extra = [text(ctx, "办理过程：" + " → ".join(steps[-4:]), px=28)] if len(steps) > 1 else []
        if case.get("reason"):  # 不予批准/中止 reason: only in the applicant's own (ID card) query
            extra.append(text(ctx, f"理由：{case['reason']}", px=28, lines=2))
        cards.append(
            card(
                text(ctx, str(case.get("item_name", "")), px=42, bold=True, colour=theme.TICKET),
                text(ctx, f"办理状态：{case.get('status', '')}{overdue}", px=36),
                text(ctx, f"承诺办结：{when_text(case.get('promised_date'))}  ·  {case.get('delivery') or ''}", px=32),
                *extra,
                text(ctx, f"流水号：{case.get('serial_no', '')}", px=28, colour=theme.MUTED),
                size_hint_y=None,
                height=ctx.px(250 + 60 * len(extra)),
            )
        )
    return column(title, scroll(cards))


def _pad(ctx: Ctx) -> Widget:
    pad = keys.keypad(ctx)
    pad.size_hint_x = 0.64
    return pad
