"""呼叫工作人员: the staff on duty have been told (or, offline, where to go)."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.terminal.screens.parts import Ctx, card, column, text
from kiosk.ui import theme


def build(ctx: Ctx) -> Widget:
    """Reassure the citizen."""
    data = ctx.state.result or {}
    if data.get("offline"):
        head, body = "网络中断，无法呼叫", "请到一楼综合咨询台或导服台，工作人员会为您提供帮助"
    else:
        head, body = "已通知工作人员", "请在原地稍候，工作人员马上过来"
    return column(
        Widget(),
        card(
            text(ctx, head, px=80, bold=True, colour=theme.TICKET, halign="center"),
            text(ctx, body, px=40, halign="center"),
            text(
                ctx,
                f"位置：{ctx.flows.profile.location}（{ctx.flows.profile.name}）",
                px=34,
                colour=theme.MUTED,
                halign="center",
            ),
            size_hint_y=None,
            height=ctx.px(380),
        ),
        Widget(),
    )
