"""统一业务流水号 across a city: every hall mints offline, and no two serials ever collide; each fits
GB/T 39046's 办件编号 (an..50) for standard implementation codes, and reads back into its parts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from hallcore.serials import (
    GB_SERIAL_MAX,
    SerialError,
    fits_gb_case_number,
    format_serial,
    looks_like_serial,
    parse_serial,
)
from hallserver.services.context import HallContext
from hallserver.services.visits import serial_number
from tests.integration.helpers import tx

CODE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
hall_codes = st.text(CODE_CHARS, min_size=4, max_size=4)
# GB/T 39046 implementation codes are an..24; real ones (the demo's) reach 33.
item_codes = st.text(CODE_CHARS, min_size=1, max_size=24)
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2099, 12, 31))
mints = st.tuples(item_codes, days, hall_codes, st.integers(1, 99_999))


@settings(max_examples=300, deadline=None)
@given(st.lists(mints, min_size=2, max_size=200, unique=True))
def test_distinct_mints_never_collide_across_halls_and_days(minted: list[tuple[str, date, str, int]]) -> None:
    serials = [format_serial(*m) for m in minted]
    assert len(set(serials)) == len(serials)
    for m, serial in zip(minted, serials, strict=True):
        assert fits_gb_case_number(serial) and len(serial) <= GB_SERIAL_MAX
        parts = parse_serial(serial)
        assert (parts.item_code, parts.day, parts.hall, parts.seq) == m


@settings(max_examples=100, deadline=None)
@given(hall_codes, hall_codes, days, st.integers(1, 99_999))
def test_two_halls_same_item_same_day_same_count_differ(a: str, b: str, day: date, seq: int) -> None:
    item = "11440300MB2D41730K000172102000000"  # a real 33-character code: 50 characters in all
    assert (format_serial(item, day, a, seq) == format_serial(item, day, b, seq)) == (a == b)
    assert len(format_serial(item, day, a, seq)) == GB_SERIAL_MAX


def test_bad_parts_are_refused_in_chinese() -> None:
    with pytest.raises(SerialError, match="大厅编码"):
        format_serial("ABC", date(2026, 11, 23), "00a1", 1)
    with pytest.raises(SerialError, match="已用完"):
        format_serial("ABC", date(2026, 11, 23), "0001", 100_000)
    assert not looks_like_serial("44030")
    assert looks_like_serial("11440300MB2D41730K0001721020000002026112300001")  # minted before hall codes


def test_the_hall_mints_with_its_code_per_item_and_day(engine: Engine, ctx: HallContext) -> None:
    item = "11440300MB2D41730K000172102000000"
    day = ctx.today()
    first = tx(engine, lambda s: serial_number(s, ctx, item, day))
    second = tx(engine, lambda s: serial_number(s, ctx, item, day))
    tomorrow = tx(engine, lambda s: serial_number(s, ctx, item, day + timedelta(days=1)))
    assert first == f"{item}{day:%Y%m%d}000100001" and second.endswith("000100002")
    assert tomorrow.endswith("000100001") and parse_serial(first).hall == ctx.profile.hall.code == "0001"
