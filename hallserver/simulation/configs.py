"""Window configurations compared on the same day: dedicated, pooled, and the scenario's own set-up."""

from __future__ import annotations

from dataclasses import dataclass

from firmware_config.hall import WindowKind
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
    policy: str  # a name from allocation.POLICIES or bench.hallsim.proposal.VARIANTS
    windows: tuple[SimWindow, ...]
    baseline: bool = False


def _label(windows: str, policy: str) -> str:
    if policy in ("fifo", "balanced"):
        return f"{windows}＋{policy}"
    return f"提案：{windows}＋{policy}"


def _breaks(s: Scenario, i: int) -> tuple[tuple[float, float], ...]:
    if not s.staggered_breaks:
        return ()
    lo, hi = s.staggered_breaks[i % len(s.staggered_breaks)]
    return ((minutes_of(lo), minutes_of(hi)),)


def _numbered(s: Scenario, specs: list[tuple[str, tuple[str, ...]]]) -> tuple[SimWindow, ...]:
    # Breaks are handed out in turn within each kind of window, so every group keeps some windows open.
    out, turn = [], {}
    for i, (kind, groups) in enumerate(specs):
        k = turn.get(groups, 0)
        turn[groups] = k + 1
        out.append(SimWindow(f"w{i + 1:03d}", kind, groups, _breaks(s, k)))
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
    return Setup(f"{'hallq' if default else 'mixed'}_{policy}", label, policy, _numbered(s, specs))


def standard_setups(s: Scenario, extra: bool = True) -> list[Setup]:
    """The three the issue compares; with `extra`, two that separate the window effect from the policy effect
    and the bench-only proposal (see proposal.py) on both window set-ups."""
    setups = [dedicated(s), pooled(s), scenario_setup(s)]
    if extra:
        setups += [
            scenario_setup(s, "fifo"),
            pooled(s, "balanced"),
            scenario_setup(s, "deadline"),
            pooled(s, "deadline"),
        ]
    return setups
