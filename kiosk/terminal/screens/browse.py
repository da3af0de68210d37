"""Choosing an item: by domain (领域), then item; or by pinyin initials on the on-screen keyboard."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.terminal.screens import keys
from kiosk.terminal.screens.parts import ACTION, ACTION_ALT, Ctx, button, column, grid, headline, paged, row, text
from kiosk.ui import theme

TITLES = {"ticket": "取号", "guide": "办事指南", "booking": "预约办事", "green": "绿色通道"}


def _title(ctx: Ctx, what: str) -> Widget:
    head = f"{TITLES.get(ctx.state.purpose or '', '')} · {what}"
    return headline(ctx, head, px=50)


def domains(ctx: Ctx) -> Widget:
    """Domain tiles plus 按拼音搜索."""
    flows = ctx.flows
    catalog = flows.catalog.current
    if catalog is None:
        return column(_title(ctx, "选择业务"), text(ctx, "事项目录暂不可用，请咨询工作人员", px=40))
    person = ctx.state.person
    who = ""
    if person is not None:
        who = f"已核验：{person.masked_name}" if ctx.state.card_present else "已核验身份证"
    tiles = [button(ctx, name, ctx.tap(flows.choose_domain, code), ACTION, px=40) for code, name in catalog.domains()]
    cols = 2 if (ctx.portrait or ctx.elderly) else 4
    search = button(
        ctx,
        "按拼音首字母搜索（如 jzz = 居住证）",
        ctx.tap(flows.open_search),
        ACTION_ALT,
        px=38,
        size_hint_y=None,
        height=ctx.px(110),
    )
    head = _title(ctx, "选择业务领域")
    if who:
        head = row(
            head,
            text(ctx, who, px=34, colour=theme.MUTED, halign="right", size_hint_x=0.45 if ctx.elderly else 0.35),
            size_hint_y=None,
            height=ctx.px(80),
        )
    if ctx.elderly:
        rows = [(name, ctx.tap(flows.choose_domain, code)) for code, name in catalog.domains()]
        return column(head, search, paged(ctx, rows, "没有可选的领域"))
    return column(head, search, grid(cols, tiles, spacing=16))


def items(ctx: Ctx) -> Widget:
    """The items of one domain, a page at a time."""
    flows = ctx.flows
    catalog = flows.catalog.current
    domain = ctx.state.domain or ""
    entries = catalog.entries(domain) if catalog else []
    rows = [(e.name, ctx.tap(flows.choose_item, e.code)) for e in entries]
    name = catalog.domain_name(domain) if catalog else domain
    return column(_title(ctx, name), paged(ctx, rows, "该领域暂无可办理事项"))


def search(ctx: Ctx) -> Widget:
    """Typed letters, the matches, and the keyboard."""
    flows = ctx.flows
    catalog = flows.catalog.current
    query = ctx.state.query
    found = catalog.search(query) if (catalog and query) else []
    rows = [(e.name, ctx.tap(flows.choose_item, e.code)) for e in found]
    empty = "请输入事项名称的拼音首字母" if not query else "没有找到匹配的事项，请换个说法或按领域查找"
    results = paged(ctx, rows, empty, per=3 if ctx.elderly else None)  # the keyboard needs its room
    board = keys.pinyin_keyboard(ctx)
    shown = keys.field(ctx, query.upper(), "输入拼音首字母，如 JZZ")
    if ctx.portrait:
        return column(_title(ctx, "拼音搜索"), shown, results, board)
    # Landscape: the keyboard beside the results, so both keep their size.
    board.size_hint_y = None
    side = column(shown, board, Widget(), size_hint_x=0.58)
    results.size_hint_x = 0.42
    return column(_title(ctx, "拼音搜索"), row(results, side, spacing=24))
