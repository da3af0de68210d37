"""The rating codes: the bus sends 5 = 非常满意, GB/T 39046 stores 1 = 非常满意. Never confuse them."""

from __future__ import annotations

import pytest

from hallcore import ratings
from hallcore.errors import HallError

# (wire level, GB/T 39046 code, label, 差评?)
TABLE = [
    (5, 1, "非常满意", False),
    (4, 2, "满意", False),
    (3, 3, "基本满意", False),
    (2, 4, "不满意", True),
    (1, 5, "非常不满意", True),
]


@pytest.mark.parametrize(("wire", "gb", "label", "bad"), TABLE)
def test_explicit_mapping(wire: int, gb: int, label: str, bad: bool) -> None:
    assert ratings.wire_to_gb(wire) == gb
    assert ratings.gb_to_wire(gb) == wire
    assert ratings.label(gb) == label
    assert ratings.is_bad(gb) is bad


@pytest.mark.parametrize("level", [0, 6, -1])
def test_out_of_range_levels_are_refused(level: int) -> None:
    with pytest.raises(HallError, match="1到5"):
        ratings.wire_to_gb(level)


def test_indicators() -> None:
    assert ratings.indicators_to_gb({"attitude": 5, "efficiency": 2}) == {"attitude": 1, "efficiency": 4}
    with pytest.raises(HallError, match="未知的评价指标"):
        ratings.indicators_to_gb({"speed": 3})
