"""首页: the six functions, the queue summary, and 大字版."""

from __future__ import annotations

from typing import Any

from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.widget import Widget

from kiosk.terminal.screens.parts import ACTION, DANGER, DISABLED, Ctx, button, card, column, grid, row, text
from kiosk.ui import theme
from kiosk.ui.widgets import Panel, Text

FUNCTIONS = (
    ("ticket", "取号", "现场排队取号", theme.rgba("#1565C0")),
    ("checkin", "预约签到", "已预约的请签到", theme.rgba("#6A1B9A")),
    ("guide", "办事指南", "查询材料与流程", theme.rgba("#00838F")),
    ("progress", "进度查询", "查询办件进度", theme.rgba("#2E7D32")),
    ("evaluation", "服务评价", "评价本次服务", theme.rgba("#EF6C00")),
)


class Tile(ButtonBehavior, Panel):
    """A big function tile: title and a line under it."""

    def __init__(self, ctx: Ctx, title: str, subtitle: str, colour: Any, enabled: bool, **kwargs: Any) -> None:
        super().__init__(
            colour=colour if enabled else DISABLED, radius=22, orientation="vertical", padding=(16, 18), **kwargs
        )
        size = 64 if len(title) <= 4 else 46  # 呼叫工作人员 must fit a third of a landscape screen
        self.add_widget(Text(title, px=ctx.px(size), bold=True, halign="center", size_hint_y=0.6))
        if ctx.elderly and enabled:
            return  # 大字版: one big word per tile, nothing small to read
        self.add_widget(
            Text(
                subtitle,
                px=ctx.px(30),
                colour=theme.MUTED if enabled else theme.NOTICE,
                halign="center",
                size_hint_y=0.4,
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
    call.bind(on_release=ctx.tap(flows.call_staff))
    cols = 2 if (ctx.portrait or ctx.elderly) else 3
    if ctx.elderly:
        main = column(call, grid(cols, tiles, spacing=18), spacing=18)
        main.children[-1].size_hint_y = 0.3  # the call tile: the first thing an older citizen sees
    else:
        main = grid(cols, [*tiles, call], spacing=20)
    toggle = button(
        ctx,
        "标准版" if ctx.elderly else "大字版 长者模式",
        ctx.tap(flows.toggle_elderly),
        ACTION,
        px=36,
        size_hint_x=0.3,
    )
    greeting = text(ctx, "您好，请选择要办理的业务", px=44, bold=True, size_hint_x=0.7)
    top = row(greeting, toggle, size_hint_y=None, height=ctx.px(88))
    queue = _queue(ctx)
    if ctx.portrait:
        main.size_hint_y = 0.78 if ctx.elderly else 0.62
        return column(top, main, queue)
    main.size_hint_x, queue.size_hint_x = 0.62, 0.38
    return column(top, row(main, queue, spacing=24))


def _short(problem: str) -> str:
    if "将于" in problem:
        return problem.split("将于", 1)[-1]  # 明天 09:00 恢复
    return problem.split("：", 1)[0]


def _queue(ctx: Ctx) -> Widget:
    """当前排队: waiting and estimate per group (from the retained queue state)."""
    groups = list(ctx.flows.backend.queue)
    limit = (3 if ctx.portrait else 4) if ctx.elderly else 8
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
