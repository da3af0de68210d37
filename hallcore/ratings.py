"""The five rating levels and their codes. Two codes exist in the wild and must never be confused:
GB/T 39046 numbers 1 = 非常满意 … 5 = 非常不满意; the bus (and some provincial APIs) send 5 = 非常满意."""

from __future__ import annotations

from hallcore.errors import HallError

GB_LABELS = {1: "非常满意", 2: "满意", 3: "基本满意", 4: "不满意", 5: "非常不满意"}
BAD_GB = frozenset({4, 5})  # 差评
INDICATORS = {"attitude": "服务态度", "efficiency": "服务效率", "skill": "服务水平"}
CHANNELS = {"evaluator": "评价器", "kiosk": "自助终端", "qr": "扫码评价", "sms": "短信评价"}


def wire_to_gb(level: int) -> int:
    """Bus level (5 = 非常满意) → GB/T 39046 code (1 = 非常满意)."""
    if level not in range(1, 6):
        raise HallError("invalid", "评价等级须为1到5（5为非常满意）")
    return 6 - level


def gb_to_wire(code: int) -> int:
    """GB/T 39046 code → bus level."""
    if code not in GB_LABELS:
        raise ValueError(f"not a GB/T 39046 rating code: {code}")
    return 6 - code


def label(code: int) -> str:
    """The Chinese label of a GB/T 39046 code."""
    return GB_LABELS[code]


def is_bad(code: int) -> bool:
    """不满意 and 非常不满意 are 差评."""
    return code in BAD_GB


def indicators_to_gb(indicators: dict[str, int]) -> dict[str, int]:
    """Optional 态度/效率/水平 ratings, each a bus level, stored as GB codes."""
    unknown = set(indicators) - set(INDICATORS)
    if unknown:
        raise HallError("invalid", f"未知的评价指标：{sorted(unknown)}（可选：{'、'.join(INDICATORS.values())}）")
    return {k: wire_to_gb(v) for k, v in indicators.items()}
