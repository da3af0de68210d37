"""The five rating levels as the evaluator shows them, in wire terms (5 = 非常满意 on the bus; the GB/T
39046 codes, where 1 = 非常满意, stay inside the server's ratings module)."""

from __future__ import annotations

from dataclasses import dataclass

from hallcore import ratings


@dataclass(frozen=True)
class Level:
    """One button: its level on the wire, its label, and whether it is a 差评."""

    wire: int
    label: str
    bad: bool


LEVELS: tuple[Level, ...] = tuple(
    Level(wire, ratings.label(ratings.wire_to_gb(wire)), ratings.is_bad(ratings.wire_to_gb(wire)))
    for wire in (5, 4, 3, 2, 1)
)
INDICATORS: dict[str, str] = dict(ratings.INDICATORS)  # attitude 服务态度, efficiency 服务效率, skill 服务水平
# Reasons a citizen can tap after a bad rating (typing Chinese on a hall tablet is slow); sent as the comment.
BAD_REASONS: tuple[str, ...] = (
    "等候时间太长",
    "服务态度不好",
    "办理效率低",
    "材料要求不清楚",
    "需要多次跑腿",
    "其他问题",
)


def level(wire: int) -> Level:
    """The level with this wire value; ValueError outside 1..5."""
    for item in LEVELS:
        if item.wire == wire:
            return item
    raise ValueError(f"评价等级须为1到5（5为非常满意），不是 {wire}")
