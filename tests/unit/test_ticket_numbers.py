"""How a ticket number is written and read: three digits below 1000, four from 1000 to 9999."""

from __future__ import annotations

import pytest

from hallcore.announce import (
    MAX_SEQ,
    call_speech,
    call_text,
    parse_ticket,
    spoken_ticket,
    ticket_number,
)


@pytest.mark.parametrize(
    ("series", "seq", "number"),
    [
        ("A", 1, "A001"),
        ("A", 12, "A012"),
        ("A", 999, "A999"),
        ("A", 1000, "A1000"),
        ("Y", 3596, "Y3596"),
        ("AB", 9999, "AB9999"),
    ],
)
def test_numbers_are_three_digits_below_1000_then_four(series: str, seq: int, number: str) -> None:
    assert ticket_number(series, seq) == number
    assert parse_ticket(number) == (series, seq)


@pytest.mark.parametrize("seq", [0, -1, MAX_SEQ + 1])
def test_no_number_outside_1_to_9999(seq: int) -> None:
    assert MAX_SEQ == 9999
    with pytest.raises(ValueError, match="1 to 9999"):
        ticket_number("A", seq)


@pytest.mark.parametrize("text", ["A12", "A0123", "A10000", "1000", "a1000", "ABC100", "A1000\n", ""])
def test_what_is_not_a_ticket_number(text: str) -> None:
    assert parse_ticket(text) is None


def test_four_digit_calls_read_digits_one_by_one() -> None:
    assert spoken_ticket("A1000") == "A幺零零零"
    assert spoken_ticket("Y3596") == "Y三五九六"
    assert call_text("A1000", 3) == "请A1000号到3号窗口办理"
    assert call_speech("A1000", 3) == "请A幺零零零号到三号窗口办理"
    assert call_speech("Y3596", 12, recall=True) == "重呼，请Y三五九六号到十二号窗口办理"
