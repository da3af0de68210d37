"""呼叫工作人员: the staff on duty have been told (or, offline, where to go; after hours, whom to call)."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.terminal.screens.parts import ACTION, Ctx, button, card, column, headline, tall, text
from kiosk.terminal.selfservice import HOTLINE
from kiosk.ui import theme


def build(ctx: Ctx) -> Widget:
    """Reassure the citizen."""
    data = ctx.state.result or {}
    flows = ctx.flows
    lines = []
    if data.get("after_hours"):
        head = "现在是非工作时间"
        if data.get("staffed"):
            lines.append(text(ctx, "已通知值班人员，请在原地稍候；也可拨打电话咨询", px=40, halign="center"))
        else:
            lines.append(text(ctx, "大厅工作人员已下班，请拨打电话咨询", px=40, halign="center"))
        lines.append(
            text(
                ctx,
                f"政务服务便民热线：{HOTLINE}（24小时）",
                px=44,
                bold=True,
                colour=theme.TICKET,
                halign="center",
            )
        )
        phone = flows.assist_phone()
        if phone:
            lines.append(text(ctx, f"本服务点协助电话：{phone}", px=40, bold=True, halign="center"))
        lines.append(text(ctx, flows.closed_text(), px=32, colour=theme.MUTED, halign="center"))
    elif data.get("offline"):
        head = "网络中断，无法呼叫"
        lines.append(text(ctx, "请到一楼综合咨询台或导服台，工作人员会为您提供帮助", px=38, halign="center"))
    else:
        head = "已通知工作人员"
        lines.append(text(ctx, "请在原地稍候，工作人员马上过来", px=40, halign="center"))
    lines.append(
        text(
            ctx,
            f"位置：{flows.profile.location}（{flows.profile.name}）",
            px=32,
            colour=theme.MUTED,
            halign="center",
            lines=2,
        )
    )
    return column(
        _spacer(ctx),  # landscape: every pixel for the message
        card(
            headline(ctx, head, px=72, colour=theme.TICKET, halign="center"),
            *lines,
            **tall(ctx, 150 + 110 * len(lines)),
        ),
        button(
            ctx,
            "反映问题（办不成事、投诉）",
            ctx.tap(flows.start_complaint),
            ACTION,
            px=40,
            size_hint_y=None,
            height=ctx.px(110),
        ),
        _spacer(ctx),
    )


def _spacer(ctx: Ctx) -> Widget:
    return Widget() if ctx.portrait else Widget(size_hint_y=None, height=0)
