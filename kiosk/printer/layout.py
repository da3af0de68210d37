"""The hall's printed documents laid out as ESC/POS bytes: ticket, 受理凭证, 一次性告知书 and 材料清单."""

from __future__ import annotations

from typing import Any

from hallcore.documents import (
    AnyDocument,
    BookingDocument,
    GuideDocument,
    NoticeDocument,
    ReceiptDocument,
    TicketDocument,
    parse_document,
)
from hallcore.identity import mask_printed_name as mask_name
from kiosk.printer.page import Page, describe, paper, when

PRIORITY_TAG = {"green": "【绿色通道】", "appointment": "【预约】"}
SEAL_LINE = "经办单位（盖章）"


def render(kind: str, document: dict[str, Any] | AnyDocument, width_mm: int = 80) -> bytes:
    """ESC/POS bytes of one document of a job kind on 58 or 80 mm paper (ValueError when unusable)."""
    doc = parse_document(kind, document) if isinstance(document, dict) else document
    page = Page(paper(width_mm))
    if isinstance(doc, TicketDocument):
        ticket(page, doc)
    elif isinstance(doc, ReceiptDocument):
        receipt(page, doc)
    elif isinstance(doc, NoticeDocument):
        notice(page, doc)
    elif isinstance(doc, BookingDocument):
        booking(page, doc)
    else:
        guide(page, doc)
    return page.finish()


def _seal(page: Page, day: str | None) -> None:
    """The seal line: room for the stamp, then the date on the right."""
    page.feed()
    page.style(align="right")
    page.line(SEAL_LINE + "    ")
    page.feed(3)
    if day:
        page.line(day + "  ")
    page.reset()


def ticket(page: Page, doc: TicketDocument) -> None:
    """排队小票: hall, the big number, the queue, people ahead, wait, time, masked name, QR, notice."""
    if doc.hall_name:
        page.heading(doc.hall_name)
    page.rule()
    page.centred("您的排队号")
    page.big(doc.ticket)
    tag = PRIORITY_TAG.get(doc.priority or "")
    if doc.group_name or tag:
        page.centred((tag or "") + (doc.group_name or ""), bold=True)
    page.rule()
    page.field("办理事项", doc.item_name)
    if doc.waiting_ahead is not None:
        page.field("前面等候", f"{doc.waiting_ahead} 人")
    if doc.estimated_wait_min is not None:
        page.field("预计等候", f"约 {doc.estimated_wait_min} 分钟")
    page.field("取号时间", when(doc.issued_at))
    if doc.masked_name:
        page.field("姓　　名", mask_name(doc.masked_name))
    page.feed()
    page.qr(doc.qr, "扫码查看排队进度、评价服务")
    if doc.notice:
        page.rule()
        page.centred(doc.notice)


def booking(page: Page, doc: BookingDocument) -> None:
    """预约凭条: hall, the booking code in large type, item, slot, check-in window, masked name."""
    if doc.hall_name:
        page.heading(doc.hall_name)
    page.rule()
    page.centred("预约码")
    page.big(doc.code)
    page.centred("【预约】" + doc.item_name, bold=True)
    page.rule()
    page.field("预约时段", _span(doc.slot_start, doc.slot_end))
    page.field("签到时间", _span(doc.checkin_from, doc.checkin_until))
    if doc.masked_name:
        page.field("姓　　名", mask_name(doc.masked_name))
    page.feed()
    page.qr(doc.qr, "扫码查看办事指南")
    if doc.notice:
        page.rule()
        page.centred(doc.notice)


def _span(start: Any, end: Any) -> str | None:
    """2026年11月24日 10:00–10:30 (the end's time only)."""
    first, last = when(start), when(end)
    if first is None:
        return None
    return f"{first}–{last[-5:]}" if last else first


def receipt(page: Page, doc: ReceiptDocument) -> None:
    """受理凭证, or 不予受理凭证 when it carries a reason (003 §15): item, serial number, applicant, time, window,
    acceptor, materials, seal line."""
    page.heading("不予受理凭证" if doc.rejection_reason else "受理凭证")
    if doc.hall_name:
        page.centred(doc.hall_name)
    page.rule()
    page.field("事项名称", doc.item_name)
    page.field("受理编号", doc.serial_no, scrub=False)
    if doc.query_code:
        page.field("查 询 码", doc.query_code, scrub=False)
    if doc.masked_name:
        page.field("申 请 人", mask_name(doc.masked_name))
    page.field("受理时间", when(doc.received_at))
    page.field("受理窗口", doc.window_name)
    page.field("受 理 人", doc.acceptor)
    if not doc.rejection_reason:
        page.field("承诺办结", when(doc.promised_date, with_time=False))
    if doc.materials_received:
        page.rule()
        page.line(f"已收材料（{len(doc.materials_received)}项）：")
        page.items([describe(m, with_note=False) for m in doc.materials_received])
    if doc.materials_to_supplement:
        page.rule()
        page.line(f"需补正材料（{len(doc.materials_to_supplement)}项）：")
        page.items([describe(m) for m in doc.materials_to_supplement])
        deadline = when(doc.supplement_deadline, with_time=False)
        if deadline:
            page.field("补正期限", f"{deadline}前")
    if doc.rejection_reason:
        page.rule()
        page.style(bold=True)
        page.field("不予受理理由", doc.rejection_reason)
        page.reset()
    page.rule()
    page.qr(doc.qr, "扫码查询办理进度")
    _seal(page, when(doc.received_at, with_time=False))


def notice(page: Page, doc: NoticeDocument) -> None:
    """一次性告知书 (003 §15): every missing material in one notice, with the deadline and contacts."""
    page.heading("一次性告知书")
    if doc.hall_name:
        page.centred(doc.hall_name)
    page.rule()
    if doc.masked_name:
        page.line(f"{mask_name(doc.masked_name)}：")
    page.para(f"　　您申请办理的“{doc.item_name}”，经审查，尚需补正以下材料：")
    page.items([describe(m) for m in doc.materials] or ["（无）"])
    deadline = when(doc.deadline, with_time=False)
    where = f"到{doc.window_name}" if doc.window_name else ""
    if deadline:
        page.para(f"　　请于{deadline}前补齐上述全部材料，{where}办理。")
    page.para("　　以上为需补正的全部材料，一次性告知。")
    page.rule()
    page.field("经 办 人", doc.staff)
    page.field("咨询电话", doc.phone)
    page.field("告知时间", when(doc.issued_at))
    page.feed()
    page.qr(doc.qr, "扫码查看办事指南")
    _seal(page, when(doc.issued_at, with_time=False))


def guide(page: Page, doc: GuideDocument) -> None:
    """办事材料清单: conditions, materials with form and copies, time limit, fee, place, phone, QR."""
    page.heading("办事材料清单")
    if doc.hall_name:
        page.centred(doc.hall_name)
    page.rule()
    page.style(bold=True)
    page.para(doc.item_name)
    page.reset()
    if doc.conditions:
        page.line("受理条件：")
        for condition in doc.conditions:
            page.para(f"· {condition}", hang=3)
    if doc.materials:
        page.line(f"所需材料（{len(doc.materials)}项）：")
        page.items([describe(m) for m in doc.materials])
    page.rule()
    page.field("办理时限", doc.time_limit)
    page.field("收费标准", doc.fee)
    page.field("办理地点", doc.location)
    page.field("咨询电话", doc.phone)
    page.feed()
    page.qr(doc.qr, "扫码查看完整办事指南")
