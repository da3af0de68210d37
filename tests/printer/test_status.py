"""DLE EOT status parsing (HARDWARE.md) and the bus status message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.printer.status import NO_ANSWER, UNKNOWN, PrinterState, answers_for, parse, query, well_formed


def test_queries_are_dle_eot_n() -> None:
    assert [query(n) for n in (1, 2, 4)] == [b"\x10\x04\x01", b"\x10\x04\x02", b"\x10\x04\x04"]
    with pytest.raises(ValueError):
        query(5)


def test_a_real_printer_out_of_paper() -> None:
    state = parse({1: 0x1A, 2: 0x32, 4: 0x7E})  # the answers recorded from an out-of-paper printer
    assert state.paper == "out" and state.offline and not state.can_print
    assert state.reason == "打印机缺纸"


def test_ready_printer() -> None:
    state = parse({1: 0x12, 2: 0x12, 4: 0x12})
    assert (state.paper, state.cover, state.offline, state.error) == ("ok", "closed", False, False)
    assert state.can_print and state.reason is None


def test_near_end_still_prints() -> None:
    state = parse({1: 0x12, 2: 0x12, 4: 0x1E})
    assert state.paper == "near_end" and state.can_print


def test_cover_open_and_error() -> None:
    cover = parse({1: 0x1A, 2: 0x16, 4: 0x12})
    assert cover.cover == "open" and not cover.can_print and cover.reason == "打印机纸仓盖未关"
    broken = parse({1: 0x1A, 2: 0x52, 4: 0x12})
    assert broken.error and broken.reason == "打印机故障"


def test_stopped_at_paper_end_counts_as_out() -> None:
    assert parse({1: 0x1A, 2: 0x32, 4: 0x12}).paper == "out"


def test_silence_and_garbage() -> None:
    assert parse({1: 0x12, 2: None}) == NO_ANSWER
    assert parse({}) == NO_ANSWER
    assert NO_ANSWER.reason is not None and "无响应" in NO_ANSWER.reason
    garbage = parse({1: 0xFF, 2: 0x12, 4: 0x12})
    assert garbage.error and not garbage.can_print
    assert not well_formed(0x00) and well_formed(0x12)


def test_status_messages() -> None:
    ts = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    ready = PrinterState().message(ts)
    assert (ready.ok, ready.paper, ready.cover, ready.error, ready.offline) == (True, "ok", "closed", None, False)
    out = parse({1: 0x1A, 2: 0x32, 4: 0x7E}).message(ts)
    assert (out.ok, out.paper, out.offline) == (False, "out", False) and out.error == "打印机缺纸"
    silent = NO_ANSWER.message(ts)
    assert (silent.ok, silent.paper, silent.cover, silent.offline) == (False, None, None, True)
    file_printer = UNKNOWN.message(ts)  # a file connection cannot answer: assumed ready
    assert UNKNOWN.can_print and file_printer.ok and file_printer.paper is None


@given(
    paper=st.sampled_from(["ok", "near_end", "out"]),
    cover=st.sampled_from(["closed", "open"]),
    error=st.booleans(),
)
def test_simulator_answers_parse_back(paper: str, cover: str, error: bool) -> None:
    state = PrinterState(paper=paper, cover=cover, error=error)  # type: ignore[arg-type]
    answers = answers_for(state)
    assert all(well_formed(b) for b in answers.values())
    parsed = parse(answers)
    assert (parsed.paper, parsed.cover, parsed.error) == (paper, cover, error)
    assert parsed.can_print == (paper != "out" and cover == "closed" and not error)
