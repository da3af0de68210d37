"""身份核验: swipe the ID card; then optionally a face check against the card's photo (never face alone);
or, for consultation tickets, no identity at all. For 预约签到 the booking code may be typed too."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.terminal.screens import keys
from kiosk.terminal.screens.parts import ACTION, ACTION_ALT, CONFIRM, Ctx, button, card, column, headline, row, text
from kiosk.ui import theme

TITLES = {"checkin": "预约签到", "booking": "预约办事", "green": "绿色通道", "ticket": "取号"}


def build(ctx: Ctx) -> Widget:
    """Ask for the card, or show whose card was read and offer the face check."""
    state, flows = ctx.state, ctx.flows
    title = f"{TITLES.get(state.purpose or '', '取号')} · 身份核验"
    parts: list[Widget] = [headline(ctx, title)]
    person = state.person
    if person is None:
        parts.append(_swipe(ctx))
        if state.purpose == "checkin":
            code = [
                text(
                    ctx,
                    "有预约码可输入（选填），再刷身份证签到",
                    px=34,
                    colour=theme.MUTED,
                    size_hint_y=None,
                    height=ctx.px(56 if ctx.portrait else 110),
                    lines=1 if ctx.portrait else 2,
                    halign="left" if ctx.portrait else "center",
                ),
                keys.field(ctx, state.keypad, "预约码（8位）"),
                keys.keypad(ctx),
                Widget(),
            ]
            if ctx.portrait:
                parts += code
            else:  # side by side: stacked, the keypad pushed the headline over the header
                swipe, hint = parts.pop(), code.pop(0)
                left = column(swipe, hint, Widget(), size_hint_x=0.4)
                parts.append(row(left, column(*code, size_hint_x=0.6), spacing=24))
        if flows.skip_allowed():
            parts.append(
                button(
                    ctx,
                    "没带身份证？咨询类业务直接取号",
                    ctx.tap(flows.skip_identity),
                    ACTION_ALT,
                    px=38,
                    size_hint_y=None,
                    height=ctx.px(110),
                )
            )
        if state.purpose != "checkin":
            parts.append(Widget())  # fixed-height rows sit at the top
        return column(*parts)
    shown = f"{person.masked_name}    {person.masked_id}" if state.card_present else "已核验（证件已取回）"
    parts.append(
        card(
            text(ctx, "已读取身份证", px=36, colour=theme.MUTED),
            text(ctx, shown, px=52, bold=True, colour=theme.TICKET),
            size_hint_y=None,
            height=ctx.px(190),
        )
    )
    if state.face:
        parts.append(
            text(ctx, state.face, px=40, halign="center", colour=theme.NOTICE, size_hint_y=None, height=ctx.px(90))
        )
    if flows.face_possible() and flows.face_cancel is None and not state.face:
        parts.append(
            text(
                ctx,
                "可选：人脸核验，确认是本人持证（也可直接继续）",
                px=34,
                colour=theme.MUTED,
                size_hint_y=None,
                height=ctx.px(60),
            )
        )
        parts.append(
            row(
                button(ctx, "人脸核验", ctx.tap(flows.start_face), ACTION, px=44),
                button(ctx, "直接继续", ctx.tap(flows.proceed), CONFIRM, px=44),
                size_hint_y=None,
                height=ctx.px(150),
            )
        )
    parts.append(Widget())
    return column(*parts)


def _swipe(ctx: Ctx) -> Widget:
    """The instruction, large: where to put the card."""
    return card(
        text(
            ctx,
            "请把身份证放在读卡区" if ctx.elderly else "请将第二代居民身份证放在读卡区",  # whole in 大字版 too
            px=50,
            bold=True,
            halign="center",
        ),
        text(ctx, "读卡区在屏幕下方，听到“嘀”声后即可取回", px=34, colour=theme.MUTED, halign="center"),
        text(ctx, "也支持港澳台居民居住证、外国人永久居留身份证", px=30, colour=theme.MUTED, halign="center"),
        size_hint_y=None,
        height=ctx.px(260),
    )
