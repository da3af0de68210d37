"""首页: the functions, the queue summary, and 大字版."""

from __future__ import annotations

from typing import Any

from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.widget import Widget

from kiosk.terminal.screens.parts import (
    ACTION,
    DANGER,
    DISABLED,
    GREEN_CHANNEL,
    Ctx,
    button,
    card,
    column,
    grid,
    headline,
    row,
    text,
)
from kiosk.ui import theme
from kiosk.ui.widgets import Panel, Text, spaced

FUNCTIONS = (
    ("ticket", "取号", "现场排队取号", theme.rgba("#1565C0")),
    ("checkin", "预约签到", "已预约的请签到", theme.rgba("#6A1B9A")),
    ("booking", "预约办事", "预约以后几天的时段", theme.rgba("#4527A0")),
    ("green", "绿色通道", "老人、残疾人、孕妇优先", GREEN_CHANNEL),
    ("guide", "办事指南", "查询材料与流程", theme.rgba("#00737D")),
    ("progress", "进度查询", "查询办件进度", theme.rgba("#2E7D32")),
    ("evaluation", "服务评价", "评价本次服务", theme.rgba("#A64B00")),
)


class Tile(ButtonBehavior, Panel):
    """A big function tile: title and a line under it."""

    def __init__(self, ctx: Ctx, title: str, subtitle: str, colour: Any, enabled: bool, **kwargs: Any) -> None:
        super().__init__(colour=colour if enabled else DISABLED, radius=22, orientation="vertical", **kwargs)
        spaced(self, (16, 12), 4)
        size = 60 if len(title) <= 4 else 40  # 呼叫工作人员 must fit a quarter of a landscape screen
        self.add_widget(Text(title, px=ctx.px(size), bold=True, halign="center", size_hint_y=0.58))
        if ctx.elderly and enabled:
            self.children[0].size_hint_y = 1
            return  # 大字版: one big word per tile, nothing small to read
        self.add_widget(
            Text(
                subtitle,
                px=ctx.px(28),
                colour=theme.TEXT if enabled else theme.NOTICE,
                halign="center",
                # 大字版 says only why a tile is off, in one short line that keeps its size on a crowded
                # screen (the 24-hour banner and an error panel above the tiles)
                lines=1 if ctx.elderly or len(subtitle) <= 9 else 2,
                size_hint_y=0.42,
            )
        )


def build(ctx: Ctx) -> Widget:
    """The home screen."""
    flows = ctx.flows
    tiles: list[Widget] = []
    for purpose, title, subtitle, colour in FUNCTIONS:
        problem = flows.available(purpose)
        tile = Tile(ctx, title, _short(problem) if problem else subtitle, colour, problem is None)
        tile.purpose = purpose
        tile.bind(on_release=ctx.tap(flows.start, purpose))
        tiles.append(tile)
    call = Tile(ctx, "呼叫工作人员", "需要帮助请点这里", DANGER, True)
    call.purpose = "assist"
    call.bind(on_release=ctx.tap(flows.call_staff))
    cols = 2 if ctx.portrait else 4
    if ctx.elderly and ctx.portrait:
        main = column(call, grid(cols, tiles, spacing=18), spacing=18)
        main.children[-1].size_hint_y = 0.2  # the call tile: the first thing an older citizen sees
    elif ctx.elderly:
        main = grid(cols, [call, *tiles], spacing=18)  # the call tile first, every tile full height
    else:
        main = grid(cols, [*tiles, call], spacing=18)
    toggle = button(
        ctx,
        "标准版" if ctx.elderly else "大字版 长者模式",
        ctx.tap(flows.toggle_elderly),
        ACTION,
        px=36,
        size_hint_x=0.34,
    )
    # 大字版: a greeting short enough to stay whole beside the 标准版 button
    greeting = headline(ctx, "您好，请选择业务" if ctx.elderly else "您好，请选择要办理的业务", px=44, size_hint_x=0.66)
    top = row(greeting, toggle, size_hint_y=None, height=ctx.px(96))
    queue = _queue(ctx)
    if ctx.portrait:
        main.size_hint_y = 0.82 if ctx.elderly else 0.62
        queue.size_hint_y = 1 - main.size_hint_y
        return column(top, main, queue)
    if ctx.elderly:  # landscape 大字版: the tiles take the width, the queue a strip below
        main.size_hint_y, queue.size_hint_y = 0.74, 0.26
        return column(top, main, queue)
    main.size_hint_x, queue.size_hint_x = 0.66, 0.34
    return column(top, row(main, queue, spacing=24))


def _short(problem: str) -> str:
    if "将于" in problem:
        return problem.split("将于", 1)[-1]  # 明天 09:00 恢复
    if "：" in problem:
        return problem.split("：", 1)[0]  # 暂停取号
    return problem.split("，", 1)[0].removeprefix("现在")  # 不在预约签到时间


def _queue(ctx: Ctx) -> Widget:
    """当前排队: waiting and estimate per group (from the retained queue state)."""
    groups = list(ctx.flows.backend.queue)
    if ctx.elderly and not ctx.portrait:
        cells = [text(ctx, f"{g.name} {g.waiting}人", px=32, halign="center") for g in groups[:3]] or [
            text(ctx, "排队信息暂不可用", px=32, colour=theme.MUTED)
        ]
        strip = row(text(ctx, "当前排队", px=34, bold=True, colour=theme.TICKET, size_hint_x=0.6), *cells)
        return card(strip, padding=(24, 6))
    limit = 2 if ctx.elderly else (6 if ctx.portrait else 8)
    lines: list[Widget] = [
        row(
            text(ctx, "当前排队", px=38, bold=True, colour=theme.TICKET, size_hint_x=0.5),
            text(ctx, "等候", px=28, colour=theme.MUTED, size_hint_x=0.22, halign="right"),
            text(ctx, "预计", px=28, colour=theme.MUTED, size_hint_x=0.28, halign="right"),
        )
    ]
    for g in groups[:limit]:
        wait = f"约{g.estimated_wait_min}分" if g.estimated_wait_min is not None else "—"
        lines.append(
            row(
                text(ctx, g.name, px=32, size_hint_x=0.5),
                text(ctx, f"{g.waiting}人", px=32, size_hint_x=0.22, halign="right"),
                text(ctx, wait, px=32, colour=theme.MUTED, size_hint_x=0.28, halign="right"),
            )
        )
    if not groups:
        lines.append(text(ctx, "排队信息暂不可用", px=32, colour=theme.MUTED))
    lines += [Widget() for _ in range(limit + 1 - len(lines))]
    return card(*lines)
