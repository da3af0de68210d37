"""确认取号 and the ticket: number, people ahead, estimated wait; when the slip did not print, the screen
shows a QR code of the ticket and says so."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.terminal.screens.parts import CONFIRM, ERROR_BG, ERROR_INK, Ctx, QrCode, button, card, column, row, text
from kiosk.terminal.texts import wait_phrase, when_text
from kiosk.ui import theme
from kiosk.ui.widgets import Text


def confirm(ctx: Ctx) -> Widget:
    """What will be issued, for whom; one big 确认取号."""
    state, flows = ctx.state, ctx.flows
    catalog = flows.catalog.current
    if state.item_code:
        what = catalog.name(state.item_code) if catalog else state.item_code
        group = flows.facts.group_for_domain(flows.catalog_domain(state.item_code) or "")
    else:
        group = flows.facts.groups.get(state.group or "")
        what = group.name if group else "综合咨询"
    person = state.person
    waiting = next((g for g in flows.backend.queue if group and g.group == group.code), None)
    lines = [
        text(ctx, "办理事项", px=34, colour=theme.MUTED),
        text(ctx, what, px=52, bold=True, colour=theme.TICKET),
        text(ctx, f"排队队列：{group.name if group else '—'}", px=38),
        text(
            ctx, f"取号人：{person.masked_name}（{person.masked_id}）" if person else "取号人：无需身份（咨询）", px=38
        ),
    ]
    if waiting is not None:
        lines.append(text(ctx, f"当前等候 {waiting.waiting} 人，{wait_phrase(waiting.estimated_wait_min)}", px=38))
    go = button(
        ctx,
        "确认取号",
        ctx.tap(flows.confirm_ticket) if not state.busy else None,
        CONFIRM,
        px=60,
        size_hint_y=0.25,
    )
    title = text(ctx, "请确认取号信息", px=52, bold=True, size_hint_y=None, height=ctx.px(80))
    # Shares, not pixels: 大字版 in landscape has no room for fixed heights scaled by 1.3.
    return column(title, card(*lines, size_hint_y=0.55), go, Widget(size_hint_y=0.2 if ctx.portrait else 0.05))


def result(ctx: Ctx) -> Widget:
    """The issued ticket."""
    state, flows = ctx.state, ctx.flows
    data = state.result or {}
    number = str(data.get("ticket", ""))
    info = card(
        text(ctx, "您的排队号", px=40, colour=theme.MUTED, halign="center"),
        Text(number, px=190 if ctx.portrait else 160, bold=True, colour=theme.TICKET, halign="center", size_hint_y=3.2),
        text(ctx, str(data.get("group_name") or ""), px=44, halign="center"),
        text(
            ctx,
            f"前面还有 {data.get('waiting_ahead', 0)} 人 · {wait_phrase(data.get('estimated_wait_min'))}",
            px=42,
            halign="center",
        ),
        text(ctx, f"取号时间 {when_text(data.get('issued_at'))}", px=32, colour=theme.MUTED, halign="center"),
        size_hint_y=0.5 if ctx.portrait else 0.52,
    )
    info.ticket_number = number
    parts: list[Widget] = [info]
    if state.notice:
        # The server's public lookup link (an unguessable token; ticket ids are for staff only).
        lookup = str(data.get("lookup_url") or "")
        if lookup.startswith("/"):
            lookup = (flows.backend.base_url() or flows.public_url or "") + lookup
        qr = QrCode(lookup, size_hint_x=0.36) if lookup else Widget(size_hint_x=0.36)
        warn = card(
            text(ctx, "凭条未能打印", px=46, bold=True, colour=ERROR_INK),
            text(ctx, state.notice, px=30, colour=ERROR_INK, lines=3),
            text(ctx, "请记住您的号码，或用手机扫右侧二维码保存", px=30, colour=ERROR_INK),
            colour=ERROR_BG,
        )
        parts.append(row(warn, qr, size_hint_y=0.26 if ctx.portrait else 0.34))
    else:
        parts.append(text(ctx, "请取走下方出纸口的排队凭条，留意叫号", px=40, halign="center", size_hint_y=0.08))
    parts.append(
        text(
            ctx,
            "请留意大厅显示屏和语音叫号；过号可到咨询台重新排队",
            px=32,
            colour=theme.MUTED,
            halign="center",
            size_hint_y=0.06,
        )
    )
    parts.append(Widget(size_hint_y=0.1 if ctx.portrait else 0.02))
    return column(*parts)
