"""The full guide (办事指南) of one item: conditions, materials, limits, fee, place; 打印材料清单; a QR code
for phones."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.terminal.screens.parts import (
    ACTION,
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
from kiosk.ui import theme


def build(ctx: Ctx) -> Widget:
    """Guide text on the left (scrolling), print and QR on the right (below in portrait)."""
    state, flows = ctx.state, ctx.flows
    catalog = flows.catalog.current
    entry = catalog.entry(state.item_code or "") if catalog else None
    if entry is None:
        return column(text(ctx, "没有找到这项办事指南", px=44))
    body = scroll([Para(line, ctx.px(size), colour, bold) for line, size, colour, bold in _lines(entry)])
    url = flows.guide_url(entry.code)
    closed = flows.available("ticket")
    actions: list[Widget] = [
        button(
            ctx,
            "取号办理" if closed is None else "取号办理（" + closed.split("，", 1)[-1].split("：", 1)[-1] + "）",
            ctx.tap(flows.ticket_for_item) if closed is None and not state.busy else None,
            CONFIRM,
            px=44 if closed is None else 30,
            bold=True,
            size_hint_y=None,
            height=ctx.px(120),
        ),
        button(
            ctx,
            "打印材料清单",
            ctx.tap(flows.print_guide) if not state.busy else None,
            ACTION,
            px=42,
            size_hint_y=None,
            height=ctx.px(120),
        ),
    ]
    if state.notice:
        actions.append(
            card(Para(state.notice, ctx.px(30), ERROR_INK), colour=ERROR_BG, size_hint_y=None, height=ctx.px(150))
        )
    actions.append(Widget())
    phone: list[Widget] = []
    if url:
        phone = [
            QrCode(url),
            text(ctx, "手机扫码查看本指南", px=30, halign="center", size_hint_y=None, height=ctx.px(50)),
        ]
    title = headline(ctx, entry.name, px=50, colour=theme.TICKET)
    if ctx.portrait:
        side = row(column(*actions, size_hint_x=0.6), column(*phone, size_hint_x=0.4), size_hint_y=0.34)
        return column(title, body, side)
    return column(title, row(body, column(*actions[:-1], *phone, size_hint_x=0.3)))


def _lines(entry: object) -> list[tuple[str, float, object, bool]]:
    """The guide as (text, size, colour, bold) paragraphs."""
    out: list[tuple[str, float, object, bool]] = []

    def head(value: str) -> None:
        out.append((value, 38, theme.NOTICE, True))

    def para(value: str) -> None:
        out.append((value, 32, theme.TEXT, False))

    conditions = getattr(entry, "conditions", ())
    if conditions:
        head("受理条件")
        for c in conditions:
            para(f"·{c}")
    head("所需材料")
    for index, m in enumerate(getattr(entry, "materials", ()), start=1):
        if m.data_shared:
            continue  # obtainable by data sharing: never demanded of the citizen
        extra = "，".join(
            x
            for x in (
                f"{m.kind.value}{m.copies}份" if m.copies else "核验原件",
                m.condition,
                "可容缺" if m.rongque else None,
            )
            if x
        )
        para(f"{index}．{m.name}（{extra}）")
    limit = getattr(entry, "time_limit", None)
    if limit is not None:
        head("办理时限")
        para(
            "即办（当场办结）"
            if limit.promised_days == 0
            else f"法定{limit.statutory_days}个工作日，承诺{limit.promised_days}个工作日"
        )
    fee = getattr(entry, "fee", None)
    if fee is not None:
        head("收费标准")
        para(fee.standard)
    loc = getattr(entry, "location", None)
    if loc is not None:
        head("办理地点")
        para(f"{loc.floor}{loc.zone}{loc.windows}")
    head("咨询电话")
    para(f"{getattr(entry, 'phone', '')}（投诉：{getattr(entry, 'complaint', '12345')}）")
    return out
