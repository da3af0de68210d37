"""Ticket slips with four-digit numbers (A1000 … AB9999): decoded from the ESC/POS bytes, the number is
whole, on one line, as large as a three-digit one and within the paper on 58 and 80 mm."""

from __future__ import annotations

import pytest

from kiosk.printer.decoded import TextLine
from kiosk.printer.decoder import decode
from kiosk.printer.layout import render
from kiosk.printer.page import PAPERS
from kiosk.printer.samples import SAMPLES
from kiosk.printer.textwidth import text_width


def number_line(data: bytes) -> TextLine:
    """The big line right under 您的排队号."""
    decoded = decode(data)
    assert decoded.problems == [] and decoded.cuts == 1
    lines = decoded.text_lines
    heading = next(i for i, line in enumerate(lines) if line.text.strip() == "您的排队号")
    return lines[heading + 1]


@pytest.mark.parametrize("width", [58, 80])
@pytest.mark.parametrize("number", ["A1000", "Y3596", "A9999", "AB1000"])
def test_a_four_digit_number_prints_whole_and_big(number: str, width: int) -> None:
    line = number_line(render("ticket", {**SAMPLES["ticket"], "ticket": number}, width))
    assert line.text == number
    assert line.align == "center" and all(s.bold for s in line.segments)
    assert line.scale == number_line(render("ticket", SAMPLES["ticket"], width)).scale == (4, 4)
    assert text_width(line.text) * line.scale[0] <= PAPERS[width].columns


def test_the_qr_and_other_lines_are_unchanged_by_a_longer_number() -> None:
    three = decode(render("ticket", SAMPLES["ticket"], 58))
    four = decode(render("ticket", {**SAMPLES["ticket"], "ticket": "A1000"}, 58))
    assert four.qr_codes == three.qr_codes
    assert [x for x in four.lines if x.strip() != "A1000"] == [x for x in three.lines if x.strip() != "A012"]
