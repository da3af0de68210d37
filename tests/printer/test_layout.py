"""Layouts at both widths: Chinese mode around every non-ASCII line, no line wider than the paper, masked
names only, and tolerant documents."""

from __future__ import annotations

import re

import pytest

from hallcore.documents import NoticeDocument, ReceiptDocument, TicketDocument, parse_document
from kiosk.printer.decoder import decode
from kiosk.printer.layout import render
from kiosk.printer.page import PAPERS, when
from kiosk.printer.samples import SAMPLES
from kiosk.printer.textwidth import text_width

WIDTHS = [58, 80]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("kind", list(SAMPLES))
def test_every_line_fits_and_chinese_is_wrapped_in_fs(kind: str, width: int) -> None:
    data = render(kind, SAMPLES[kind], width)
    assert data.startswith(b"\x1b@") and data.endswith(b"\x1dV\x00")
    decoded = decode(data)
    assert decoded.problems == [] and decoded.cuts == 1
    for line in decoded.text_lines:
        assert text_width(line.text) * line.scale[0] <= PAPERS[width].columns, line.text
    # every GB18030 run sits between FS & and FS .
    for run in re.split(rb"\x1c&.*?\x1c\.", data, flags=re.S):
        assert not re.search(rb"[\xa1-\xfe][\xa1-\xfe]", run.split(b"\x1d(k")[0])


@pytest.mark.parametrize("width", WIDTHS)
def test_punctuation_only_and_yuan_lines(width: int) -> None:
    document = {**SAMPLES["guide"], "fee": "￥120.00", "conditions": ["……", "（）"], "phone": "——"}
    data = render("guide", document, width)
    assert b"\x1c&" + "收费标准：￥120.00".encode("gb18030") + b"\x1c." in data
    lines = [line.strip() for line in decode(data).lines]
    assert "收费标准：￥120.00" in lines and "· ……" in lines and "· （）" in lines and "咨询电话：——" in lines
    yen = render("guide", {**document, "fee": "¥60"}, width)  # the half-width yen has no double-byte code
    assert "收费标准：￥60" in decode(yen).lines


@pytest.mark.parametrize("width", WIDTHS)
def test_long_names_wrap_by_display_width(width: int) -> None:
    name = "因私出入境中介机构资格认定及内地居民前往港澳通行证签发和再次签注（团队旅游、个人旅游、探亲）"
    decoded = decode(render("ticket", {**SAMPLES["ticket"], "item_name": name}, width))
    columns = PAPERS[width].columns
    item_lines: list[str] = []
    for line in decoded.lines:
        if line.startswith("办理事项：") or (item_lines and line.startswith("          ")):
            item_lines.append(line)
        elif item_lines:
            break
    assert len(item_lines) >= (3 if width == 58 else 2)
    assert all(text_width(line) <= columns for line in item_lines)
    assert "".join(line.strip() for line in item_lines) == "办理事项：" + name
    assert max(text_width(line) for line in item_lines) >= columns - 1  # lines are filled, not cut short


def test_big_ticket_number_and_priority() -> None:
    decoded = decode(render("ticket", {**SAMPLES["ticket"], "ticket": "YA0123", "priority": "appointment"}, 58))
    big = next(line for line in decoded.text_lines if line.text == "YA0123")
    assert big.scale == (4, 4) and 6 * 4 <= 32
    assert "【预约】公安服务" in decoded.lines


def test_only_masked_names_and_no_id_numbers() -> None:
    document = {
        **SAMPLES["notice"],
        "masked_name": "陈小芳",
        "materials": [{"name": "身份证 44030519900307123X 复印件", "note": "号码440305199003071234需一致"}],
    }
    text = decode(render("notice", document, 80)).text
    assert "陈*芳" in text and "陈小芳" not in text
    assert "44030519900307123X" not in text and "440305199003071234" not in text
    assert "4403**********123X" in text
    ticket = decode(render("ticket", {**SAMPLES["ticket"], "masked_name": "张三"}, 58)).text
    assert "张*" in ticket and "张三" not in ticket


def test_rejection_receipt() -> None:
    document = {
        **SAMPLES["receipt"],
        "materials_to_supplement": [],
        "rejection_reason": "申请事项不属于本机关职权范围，请向市住房公积金管理中心申请",
    }
    text = "".join(line.strip() for line in decode(render("receipt", document, 58)).lines)
    assert "不予受理理由：申请事项不属于本机关职权范围" in text and "需补正" not in text
    assert "不予受理凭证" in text and "承诺办结" not in text
    accepted = "".join(line.strip() for line in decode(render("receipt", SAMPLES["receipt"], 58)).lines)
    assert "受理凭证" in accepted and "不予受理" not in accepted
    assert "经办单位（盖章）" in text


def test_documents_are_tolerant() -> None:
    ticket = parse_document("ticket", {"ticket": "B001", "future_field": 1, "issued_at": "2026-11-23T09:00:00+08:00"})
    assert isinstance(ticket, TicketDocument) and when(ticket.issued_at) == "2026年11月23日 09:00"
    receipt = parse_document(
        "receipt",
        {"item_name": "x事项", "serial_no": "S1", "materials_received": ["身份证"], "window": "3号窗口",
         "supplement_deadline": "2026-12-01"},
    )  # fmt: skip
    assert isinstance(receipt, ReceiptDocument) and receipt.materials_received[0].name == "身份证"
    assert receipt.window_name == "3号窗口" and when(receipt.supplement_deadline, False) == "2026年12月01日"
    notice = parse_document(
        "notice", {"item_name": "x事项", "missing_materials": [{"name": "证明"}], "deadline": "下周一"}
    )
    assert isinstance(notice, NoticeDocument) and notice.materials[0].name == "证明" and notice.deadline == "下周一"
    minimal = decode(render("guide", {"item_name": "咨询"}, 58))
    assert "咨询" in minimal.lines and minimal.qr_codes == []
    with pytest.raises(ValueError):
        parse_document("ticket", {"group_name": "没有号码"})
    with pytest.raises(ValueError):
        render("letter", {}, 80)
    with pytest.raises(ValueError):
        render("ticket", SAMPLES["ticket"], 76)
