"""Small helpers shared by the report sections: number formatting, Markdown tables, extra figures."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bench.profile_issue import Breakdown


def f(x: float | None, digits: int = 1) -> str:
    """A number for a table: ∞ for infinity, — for missing."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if isinstance(x, float) and math.isinf(x):
        return "∞"
    return f"{x:.{digits}f}"


def pct(x: float) -> str:
    """A share as a percentage."""
    return "—" if math.isnan(x) else f"{x * 100:.0f}%"


def yes(ok: bool) -> str:
    """A verdict mark."""
    return "✅ 达到" if ok else "❌ 未达到"


@dataclass
class Extras:
    """Figures from the other benches and the profile, each with the command that reproduces it."""

    profile: Breakdown | None = None
    history: dict[int, float] = field(default_factory=dict)
    what_if: dict[str, float] = field(default_factory=dict)
    what_if_history: int = 0
    outputs: list[tuple[str, str]] = field(default_factory=list)  # (command, its output)


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


# --- live system ---
