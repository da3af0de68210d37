"""Display width, wrapping by it, and masking."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from kiosk.printer.textwidth import (
    NO_END,
    NO_START,
    char_width,
    mask_id_numbers,
    mask_name,
    text_width,
    wrap,
)


def test_widths() -> None:
    assert [char_width(c) for c in "A1 中，￥…·é\u0301"] == [1, 1, 1, 2, 2, 2, 2, 2, 2, 0]
    assert char_width("…", chinese_mode=False) == 1 and char_width("中", chinese_mode=False) == 2
    assert char_width("\n") == 0
    assert text_width("A012号") == 6


def test_wrap_by_display_width() -> None:
    name = "内地居民前往港澳通行证签发及再次签注（个人旅游、探亲、商务）"
    lines = wrap("办理事项：" + name, 32, hang=10)
    assert all(text_width(line) <= 32 for line in lines)
    assert lines[0] == "办理事项：内地居民前往港澳通行证"  # 10 + 22 columns
    assert all(line.startswith(" " * 10) for line in lines[1:])
    assert "".join(line.strip() for line in lines) == "办理事项：" + name


def test_numbers_urls_and_units_stay_together() -> None:
    lines = wrap("请在30分钟内到窗口 http://hall.test/x/123 办理", 12)
    assert "http://hall.test/x/123"[:12] in "".join(lines)
    assert not any(line.startswith("分") for line in lines)
    assert wrap("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 10) == ["ABCDEFGHI", "JKLMNOPQR", "STUVWXYZ"]  # even pieces


def test_no_closing_punctuation_at_line_start() -> None:
    lines = wrap("一二三四五，六七八", 10)  # the comma would start line 2
    assert lines == ["一二三四", "五，六七八"]
    lines = wrap("一二三四（五六）", 10)  # an opening bracket would end line 1
    assert lines == ["一二三四", "（五六）"]


def test_punctuation_only_and_newlines() -> None:
    assert wrap("……………………", 6) == ["………", "………", "……"]
    assert wrap("第一行\n第二行", 32, hang=2) == ["第一行", "  第二行"]
    assert wrap("第一行\nABCDEFGHIJKLMNOPQRSTUVWXYZ", 10, hang=2) == [
        "第一行",
        "  ABCDEFG",
        "  HIJKLMN",
        "  OPQRST",
        "  UVWXYZ",
    ]


def test_masking() -> None:
    assert mask_name("张三") == "张*" and mask_name("张小三") == "张*三" and mask_name("欧阳小明") == "欧**明"
    assert mask_name("李*华") == "李*华"
    assert mask_id_numbers("身份证11010519491231002X已核验") == "身份证1101**********002X已核验"
    serial = "11440305MB2C920514440305001202611230007"  # long serial numbers are not ID numbers
    assert mask_id_numbers(serial) == serial


cjk_text = st.text(
    alphabet=st.sampled_from(list("政务服务中心办理事项材料（）【】，。、；：？！…—￥ ABCabc0123456789-/.\n")),
    max_size=120,
)


@given(text=cjk_text, width=st.integers(min_value=8, max_value=48), hang=st.integers(min_value=0, max_value=12))
def test_wrap_never_exceeds_the_paper_and_keeps_every_character(text: str, width: int, hang: int) -> None:
    lines = wrap(text, width, hang)
    assert all(text_width(line) <= width for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "").replace("\n", "")
    assert all(line.startswith(" " * min(hang, width // 2)) for line in lines[1:])


@given(text=st.text(alphabet=st.sampled_from(list("政务服务中心办理事项，。、）】")), min_size=1, max_size=80))
def test_closing_punctuation_starts_a_line_only_after_another(text: str) -> None:
    lines = wrap(text, 10)
    for previous, line in itertools.pairwise(lines):
        if line and line[0] in NO_START:
            assert previous[-1] in NO_START or len(previous) <= 1
        assert not previous or previous[-1] not in NO_END
