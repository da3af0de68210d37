"""短信提醒（留手机号）: the consent line, the number typed on the keypad, 同意并提交 (enabled only for a valid
mobile number with the consent given) and 不用了; then the masked number and the server's message."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.terminal.contact import CONSENT_LINE, PHONE_DIGITS, phone_valid
from kiosk.terminal.screens import keys
from kiosk.terminal.screens.parts import (
    ACTION,
    ACTION_ALT,
    CONFIRM,
    Ctx,
    Para,
    button,
    card,
    column,
    headline,
    row,
    text,
)
from kiosk.ui import theme


def _grouped(digits: str) -> str:
    """138 0013 8000: easier to check on screen."""
    return " ".join(part for part in (digits[:3], digits[3:7], digits[7:]) if part)


def _what(subject: dict[str, str]) -> str:
    if subject.get("ticket"):
        return f"为排队号 {subject['ticket']} 登记短信提醒"
    return f"为预约码 {subject.get('booking_code', '')} 登记短信提醒"


def sms_button(ctx: Ctx) -> Widget:
    """短信提醒（留手机号）: the optional way here, on the ticket and the booking screens."""
    return button(
        ctx,
        "短信提醒（留手机号）",
        ctx.tap(ctx.flows.start_contact) if not ctx.state.busy else None,
        ACTION_ALT,
        px=38,
        size_hint_y=None,
        height=ctx.px(84),
    )


def build(ctx: Ctx) -> Widget:
    """The form, or what was recorded."""
    form = ctx.state.result or {}
    if form.get("done"):
        return _done(ctx)
    flows, state = ctx.flows, ctx.state
    subject = (form.get("contact") or {}).get("subject") or {}
    agreed = bool(form.get("consent"))
    consent = card(
        Para(CONSENT_LINE, ctx.px(30), theme.TEXT),
        button(
            ctx,
            "✓ 已同意以上内容" if agreed else "点此同意以上内容",
            ctx.tap(flows.toggle_consent) if not state.busy else None,
            ACTION if agreed else ACTION_ALT,
            px=36,
            size_hint_y=None,
            height=ctx.px(84),
        ),
        size_hint_y=None,
    )
    consent.bind(minimum_height=consent.setter("height"))  # as tall as its wrapped line needs
    consent.consent_given = agreed
    digits = state.keypad
    if len(digits) == PHONE_DIGITS and not phone_valid(digits):
        hint, colour = "请输入以13–19开头的手机号码（仅支持手机）", theme.NOTICE
    else:
        hint, colour = f"已输入 {len(digits)}/{PHONE_DIGITS} 位", theme.MUTED
    status = text(ctx, hint, px=30, colour=colour, halign="center", size_hint_y=None, height=ctx.px(48))
    ready = flows.contact_ready()
    submit = button(ctx, "同意并提交", ctx.tap(flows.submit_contact) if ready else None, CONFIRM, px=44, bold=True)
    submit.ready = ready
    actions = row(
        button(ctx, "不用了", ctx.tap(flows.contact_back), ACTION_ALT, px=40),
        submit,
        size_hint_y=None,
        height=ctx.px(100),
    )
    what = text(ctx, _what(subject), px=34, bold=True, colour=theme.TICKET, size_hint_y=None, height=ctx.px(56))
    phone = keys.field(ctx, _grouped(digits), "请输入11位手机号码")
    if ctx.portrait:
        return column(
            headline(ctx, "短信提醒"), what, consent, phone, status, keys.keypad(ctx, letters=False), actions, Widget()
        )
    left = column(what, consent, Widget(), size_hint_x=0.5)
    right = column(phone, status, keys.keypad(ctx, letters=False), actions, Widget(), size_hint_x=0.5)
    return column(headline(ctx, "短信提醒"), row(left, right, spacing=24))


def _done(ctx: Ctx) -> Widget:
    """The masked number and the server's words; back to the ticket or booking, or home."""
    done = (ctx.state.result or {}).get("done") or {}
    flows = ctx.flows
    shown = card(
        headline(ctx, "已登记短信提醒", px=60, colour=theme.TICKET, halign="center"),
        text(ctx, f"手机号码：{done.get('masked_phone', '')}", px=48, bold=True, halign="center"),
        Para(str(done.get("message", "")), ctx.px(32), theme.TEXT),
        size_hint_y=None,
    )
    shown.bind(minimum_height=shown.setter("height"))
    shown.masked_phone = done.get("masked_phone")
    actions = row(
        button(ctx, "返回", ctx.tap(flows.contact_back), ACTION_ALT, px=40),
        button(ctx, "完成", ctx.tap(flows.home), CONFIRM, px=44),
        size_hint_y=None,
        height=ctx.px(100),
    )
    return column(Widget(), shown, actions, Widget())
