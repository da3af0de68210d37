"""确认取号 and the ticket. The confirmation names the item, its queue and the windows serving it, and reminds
the citizen of the materials to bring before the ticket is taken. The ticket shows the number, the item, the
windows to watch, people ahead and the estimated wait, and a QR code of the ticket: the kiosk never claims a
slip it cannot vouch for (when the slip did not print, it says so in red)."""

from __future__ import annotations

from typing import Any

from kivy.uix.widget import Widget

from kiosk.terminal.screens.contact import sms_button
from kiosk.terminal.screens.parts import (
    CONFIRM,
    ERROR_BG,
    ERROR_INK,
    Ctx,
    Para,
    QrCode,
    button,
    card,
    column,
    headline,
    row,
    scroll,
    text,
)
from kiosk.terminal.texts import wait_phrase, when_text
from kiosk.ui import theme
from kiosk.ui.widgets import Text

MATERIALS_SHOWN = 6


def ticket_fields(data: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """(number, group code, item name) of a ticket.issue reply or of an appointment.checkin reply (whose
    `ticket` is the ticket object)."""
    ticket = data.get("ticket")
    if isinstance(ticket, dict):
        return str(ticket.get("number", "")), ticket.get("group"), ticket.get("item_name")
    return str(ticket or ""), data.get("group"), data.get("item_name")


def windows_text(ctx: Ctx, group: str | None) -> str:
    """办理窗口：19号窗口（绿色通道）、1号窗口、2号窗口 — from the hall's windows serving the queue."""
    windows = ctx.flows.facts.windows_for(group or "") if group else []
    if ctx.state.purpose == "green":
        windows = ctx.flows.facts.green_windows() or windows
    else:
        windows = [w for w in windows if w.kind != "绿色通道"]
    if not windows:
        return "办理窗口：请留意叫号屏显示的窗口"
    shown = 2 if ctx.elderly else 3  # 大字版: a line that stays large
    names = [w.name + ("（绿色通道）" if w.kind == "绿色通道" else "") for w in windows[:shown]]
    more = f"等{len(windows)}个窗口" if len(windows) > shown else ""
    return "办理窗口：" + "、".join(names) + more


def materials(ctx: Ctx, code: str | None) -> list[str]:
    """The materials the citizen must bring for an item (data-shared ones are never asked for)."""
    catalog = ctx.flows.catalog.current
    entry = catalog.entry(code) if (catalog and code) else None
    if entry is None:
        return []
    return [m.name + ("（可容缺）" if m.rongque else "") for m in entry.materials if not m.data_shared]


def confirm(ctx: Ctx) -> Widget:
    """What will be issued, for whom, at which windows; the materials to have at hand; one big 确认取号."""
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
    green = state.purpose == "green" and state.green
    if person is None:
        who = "取号人：无需身份（咨询）"
    elif state.card_present:
        who = f"取号人：{person.masked_name}（{person.masked_id}）"
    else:
        who = "取号人：已核验身份证（证件已取回）"
    lines: list[Widget] = [
        text(ctx, what, px=50, bold=True, colour=theme.TICKET),
        text(
            ctx,
            f"排队队列：{group.name if group else '—'}" + (f" · 绿色通道（{state.green}）" if green else ""),
            px=36,
        ),
        text(ctx, windows_text(ctx, group.code if group else None), px=34, lines=2),
        text(ctx, who, px=34),
    ]
    if waiting is not None:
        lines.append(text(ctx, f"当前等候 {waiting.waiting} 人，{wait_phrase(waiting.estimated_wait_min)}", px=34))
    needed = materials(ctx, state.item_code)
    info = card(*lines, size_hint_y=0.4)
    parts: list[Widget] = [headline(ctx, "请确认取号信息"), info]
    if needed:
        shown = [f"{i}．{name}" for i, name in enumerate(needed[:MATERIALS_SHOWN], start=1)]
        if len(needed) > MATERIALS_SHOWN:
            shown.append(f"等共{len(needed)}项，详见办事指南")
        reminder = card(
            text(
                ctx, "请确认已带齐以下材料", px=38, bold=True, colour=theme.NOTICE, size_hint_y=None, height=ctx.px(56)
            ),
            scroll([Para(line, ctx.px(32)) for line in shown], spacing=4),
            size_hint_y=0.3,
        )
        reminder.materials = needed
        if ctx.portrait:
            parts.append(reminder)
        else:  # landscape: side by side, both keep their height
            parts[-1] = row(info, reminder, size_hint_y=0.62)
            info.size_hint_y = reminder.size_hint_y = 1
    go = button(
        ctx,
        "材料已备齐，确认取号" if needed else "确认取号",
        ctx.tap(flows.confirm_ticket) if not state.busy else None,
        CONFIRM,
        px=52,
        bold=True,
        size_hint_y=0.2 if state.error else 0.16,  # an error panel above: still ≥ 60 dp in 大字版
    )
    parts.append(go)
    if not needed:
        parts.append(Widget(size_hint_y=0.3))
    return column(*parts)


def result(ctx: Ctx) -> Widget:
    """The issued ticket (from ticket.issue or a check-in)."""
    state, flows = ctx.state, ctx.flows
    data = state.result or {}
    number, group, item_name = ticket_fields(data)
    if item_name is None and state.item_code and flows.catalog.current:
        item_name = flows.catalog.current.name(state.item_code)
    green = state.purpose == "green"
    info = card(
        text(ctx, "您的排队号" + ("（绿色通道）" if green else ""), px=40, colour=theme.MUTED, halign="center"),
        Text(number, px=170 if ctx.portrait else 130, bold=True, colour=theme.TICKET, halign="center", size_hint_y=3),
        text(ctx, f"办理事项：{item_name or data.get('group_name') or ''}", px=38, halign="center"),
        text(ctx, windows_text(ctx, group), px=34, halign="center", lines=2),
        text(
            ctx,
            f"前面还有 {data.get('waiting_ahead', 0)} 人 · {wait_phrase(data.get('estimated_wait_min'))}",
            px=40,
            halign="center",
        ),
        text(ctx, f"取号时间 {when_text(_issued_at(data))}", px=30, colour=theme.MUTED, halign="center"),
        size_hint_y=0.56,
    )
    info.ticket_number = number
    info.children[-2].role = "headline"  # the number is this screen's headline
    lookup = str(data.get("lookup_url") or "")
    if lookup.startswith("/"):
        lookup = (flows.backend.base_url() or flows.public_url or "") + lookup
    qr = QrCode(lookup, size_hint_x=0.3) if lookup else Widget(size_hint_x=0.3)
    if state.notice:
        slip = card(
            text(ctx, "凭条未能打印", px=44, bold=True, colour=ERROR_INK),
            Para(state.notice, ctx.px(30), ERROR_INK),
            text(ctx, "请记住您的号码，或用手机扫右侧二维码保存", px=30, colour=ERROR_INK),
            colour=ERROR_BG,
        )
    elif data.get("print_job_id"):
        slip = card(
            text(ctx, "凭条正在打印，请在下方出纸口取走", px=36, bold=True, lines=2),
            text(ctx, "如未出纸，请记住号码或扫码保存", px=30, colour=theme.MUTED),
        )
    else:
        slip = card(
            text(ctx, "本机没有打印凭条", px=36, bold=True, colour=theme.NOTICE),
            text(ctx, "请记住您的号码，或扫右侧二维码保存", px=30),
        )
    slip.slip_state = "failed" if state.notice else ("sent" if data.get("print_job_id") else "none")
    parts: list[Widget] = [info, row(slip, qr, size_hint_y=0.26 if ctx.portrait else 0.3)]
    if flows.offer_contact():  # 短信提醒 (issue 16): optional, never in the way of the ticket
        sms = sms_button(ctx)
        if ctx.portrait:
            parts.append(sms)
        else:  # landscape has no height to spare, but width beside the slip and the QR code
            sms.text, sms.size_hint = "短信提醒\n（留手机号）", (0.4, 1)
            parts[1].add_widget(sms)
    parts.append(
        text(
            ctx,
            "请留意大厅显示屏和语音叫号；过号可到咨询台重新排队",
            px=30,
            colour=theme.MUTED,
            halign="center",
            size_hint_y=0.07,
        )
    )
    return column(*parts)


def _issued_at(data: dict[str, Any]) -> str | None:
    ticket = data.get("ticket")
    if isinstance(ticket, dict):
        return ticket.get("issued_at")
    return data.get("issued_at")
