"""Window configurations compared on the same day: dedicated, pooled, and the scenario's own set-up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from firmware_config.hall import OverflowRule, WindowKind
from hallserver.simulation.scenario import Scenario, minutes_of


@dataclass(frozen=True)
class SimWindow:
    """One window of a configuration."""

    id: str
    kind: str
    groups: tuple[str, ...]
    breaks: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class Setup:
    """A named window configuration run with one allocation policy."""

    key: str
    label: str
    policy: str  # a name from allocation.POLICIES
    windows: tuple[SimWindow, ...]
    baseline: bool = False
    overflow: tuple[OverflowRule, ...] = ()  # manager-approved overflow rules (window ids of `windows`)


OVERFLOW_MINUTES = 10  # the hall-wide overflow threshold the study found to meet every target (bench/hallsim)


def _label(windows: str, policy: str) -> str:
    if policy in ("fifo", "balanced", "fair"):
        return f"{windows}＋{policy}"
    return f"提案：{windows}＋{policy}"


def _breaks(s: Scenario, i: int) -> tuple[tuple[float, float], ...]:
    if not s.staggered_breaks:
        return ()
    lo, hi = s.staggered_breaks[i % len(s.staggered_breaks)]
    return ((minutes_of(lo), minutes_of(hi)),)


def _numbered(
    s: Scenario, specs: Sequence[tuple[str, tuple[str, ...]]], ids: list[str] | None = None
) -> tuple[SimWindow, ...]:
    # Breaks are handed out in turn within each kind of window, so every group keeps some windows open.
    out: list[SimWindow] = []
    turn: dict[tuple[str, ...], int] = {}
    for i, (kind, groups) in enumerate(specs):
        k = turn.get(groups, 0)
        turn[groups] = k + 1
        out.append(SimWindow(ids[i] if ids else f"w{i + 1:03d}", kind, groups, _breaks(s, k)))
    return tuple(out)


def dedicated_counts(s: Scenario) -> dict[str, int]:
    """Windows per group for the dedicated baseline: the scenario's, else by offered work (largest remainder,
    at least one each) — how a hall staffs department windows today."""
    if s.dedicated is not None:
        return dict(s.dedicated)
    n = s.window_count
    work = {g.code: g.share * g.service.mean for g in s.groups}
    total = sum(work.values())
    quota = {g: max(1.0, n * w / total) for g, w in work.items()}
    counts = {g: int(q) for g, q in quota.items()}
    by_remainder = sorted(quota, key=lambda g: quota[g] - counts[g], reverse=True)
    i = 0
    while sum(counts.values()) < n:
        counts[by_remainder[i % len(by_remainder)]] += 1
        i += 1
    while sum(counts.values()) > n:  # minimums pushed us over: take from the biggest
        biggest = max(counts, key=lambda g: counts[g])
        counts[biggest] -= 1
    return counts


def dedicated(s: Scenario, policy: str = "fifo") -> Setup:
    """Every window serves exactly one group (专业窗口, 分部门): how most halls still work."""
    specs = [(WindowKind.dedicated.value, (g,)) for g, k in dedicated_counts(s).items() for _ in range(k)]
    return Setup(f"dedicated_{policy}", _label("专窗分设", policy), policy, _numbered(s, specs), baseline=True)


def pooled(s: Scenario, policy: str = "fifo") -> Setup:
    """Every window serves every group (无差别综合窗口)."""
    groups = tuple(g.code for g in s.groups)
    specs = [(WindowKind.universal.value, groups)] * s.window_count
    label = _label("无差别全通办", policy)
    return Setup(f"pooled_{policy}", label, policy, _numbered(s, specs), baseline=policy == "fifo")


def scenario_setup(s: Scenario, policy: str | None = None) -> Setup:
    """The scenario's own window set-up (分领域 and 无差别 windows), with hallq's configured policy."""
    policy = policy or s.allocation.policy
    specs = [(w.kind.value, tuple(w.groups)) for w in s.windows for _ in range(w.count)]
    default = policy == s.allocation.policy
    label = f"hallq 默认：混合窗口＋{policy}" if default else _label("混合窗口", policy)
    windows = _numbered(s, specs, s.window_ids())
    key = f"{'hallq' if default else 'mixed'}_{policy}"
    return Setup(key, label, policy, windows, overflow=s.allocation.overflow)


def hall_wide_overflow(s: Scenario, after_minutes: int) -> tuple[OverflowRule, ...]:
    """The widest overflow a manager could approve (004 §14): every window may help every group it does not
    serve, with tickets that have waited `after_minutes` — threshold-based overflow (van Dijk & van der Sluis,
    POMS 2008) between dedicated (no rule) and pooled (after 0, helping as much as serving)."""
    ids = s.window_ids()
    specs = [w for w in s.windows for _ in range(w.count)]
    rules = []
    for g in s.groups:
        helpers = tuple(i for i, w in zip(ids, specs, strict=True) if g.code not in w.groups)
        if helpers:
            rules.append(OverflowRule(group=g.code, windows=helpers, after_minutes=after_minutes))
    return tuple(rules)


def overflow_setup(s: Scenario, after_minutes: int, policy: str | None = None) -> Setup:
    """The scenario's windows with `hall_wide_overflow` rules (in addition to the scenario's own)."""
    base = scenario_setup(s, policy)
    policy = base.policy
    rules = base.overflow + hall_wide_overflow(s, after_minutes)
    label = f"混合窗口＋{policy}＋全厅溢出 {after_minutes} 分钟"
    return Setup(f"overflow{after_minutes}_{policy}", label, policy, base.windows, overflow=rules)


def standard_setups(s: Scenario, extra: bool = True) -> list[Setup]:
    """The three the issue compares; with `extra`, the mixed windows under fifo and the old default balanced,
    balanced and fair on 无差别 windows, and fair with hall-wide overflow rules after OVERFLOW_MINUTES."""
    setups = [dedicated(s), pooled(s), scenario_setup(s)]
    if extra:
        setups += [
            scenario_setup(s, "fifo"),
            scenario_setup(s, "balanced"),
            pooled(s, "balanced"),
            pooled(s, "fair"),
            overflow_setup(s, OVERFLOW_MINUTES),
        ]
    return setups
