"""What-if for hall managers: the rest of today simulated twice on the same seeded citizens — the hall as it
is, and with a proposed change (windows moved to other groups, extra windows, other overflow rules).

Pure: everything comes in as `Today` (hallserver/simulation/today.py reads it from the database)
and the engine runs the REAL allocation policy. Simulator time is minutes after local midnight; the run
starts at `now` with the tickets waiting now already in line (at their place in the queue), windows busy
with a citizen become free when that visit is expected to end, and arrivals for the rest of the day follow
`curve` (expected tickets per clock hour)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from firmware_config.hall import AllocationRules, OverflowRule, TicketRules
from hallcore.errors import HallError
from hallserver.services.allocation import get_policy
from hallserver.simulation.arrivals import BOOKED, GREEN, WALK_IN, Citizen, Day, generate
from hallserver.simulation.configs import Setup, SimWindow
from hallserver.simulation.engine import SimResult, SimTicket, simulate
from hallserver.simulation.scenario import (
    Appointments,
    GroupSpec,
    Hours,
    Patience,
    Scenario,
    ServiceTime,
    WindowSpec,
)

MAX_EXTRA_WINDOWS = 20
EXTRA_PREFIX = "x"  # ids of proposed extra windows: x01, x02 … (real ones are w01 …)


# --- inputs ---


@dataclass(frozen=True)
class GroupToday:
    """A queue group: its share of the rest of the day's tickets and its recent service time."""

    code: str
    name: str
    prefix: str
    share: float
    service_mean: float
    service_cv: float = 0.7
    bookable: bool = True


@dataclass(frozen=True)
class WindowToday:
    """An open window as it is now: live groups, and minutes until its current visit is expected to end."""

    id: str
    name: str
    kind: str
    groups: tuple[str, ...]
    busy_for: float = 0.0


@dataclass(frozen=True)
class WaitingNow:
    """A ticket waiting now: its group, priority, place in the line (minutes) and booked slot."""

    group: str
    priority: str  # normal | green | appointment
    queued: float
    slot: float | None = None


@dataclass(frozen=True)
class Today:
    """Everything the what-if needs about today, read at `now`."""

    day: date
    now: float  # minutes after midnight
    close: float  # end of the last session
    gaps: tuple[tuple[float, float], ...]  # closed spans between sessions still ahead (lunch)
    groups: tuple[GroupToday, ...]
    windows: tuple[WindowToday, ...]
    waiting: tuple[WaitingNow, ...]
    curve: dict[str, float]  # expected new tickets per clock hour from now on ('14': 120.0)
    hall_windows: tuple[str, ...] = ()  # every window id of the hall, open or not (overflow rules may name them)
    tickets: TicketRules = field(default_factory=TicketRules)
    allocation: AllocationRules = field(default_factory=AllocationRules)
    appointment_share: float = 0.3
    green_share: float = 0.05
    patience: Patience = field(default_factory=Patience)
    walk_minutes: float = 0.3
    seed: int = 20261123

    def group(self, code: str) -> GroupToday | None:
        """A group by code."""
        return next((g for g in self.groups if g.code == code), None)

    @property
    def expected_arrivals(self) -> float:
        """Expected new tickets from now until closing."""
        return sum(self.curve.values())


# --- the proposal (one command model: the REST body too) ---


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


GroupCodes = list[str]


class Move(_Body):
    """Serve these groups at this window instead (a live reallocation)."""

    window_id: str = Field(pattern=r"^w[0-9]{2,3}$", description="A window of the hall, e.g. w05")
    groups: GroupCodes = Field(min_length=1, max_length=20, description="Queue group codes")


class ExtraWindow(_Body):
    """Open `count` more windows serving these groups."""

    groups: GroupCodes = Field(min_length=1, max_length=20)
    count: int = Field(default=1, ge=1, le=MAX_EXTRA_WINDOWS)


class Proposal(_Body):
    """What a manager wants to try; `overflow` None keeps the hall's current overflow rules."""

    moves: list[Move] = Field(default_factory=list, max_length=100)
    extra_windows: list[ExtraWindow] = Field(default_factory=list, max_length=MAX_EXTRA_WINDOWS)
    overflow: list[OverflowRule] | None = Field(default=None, max_length=50)


# --- results ---


@dataclass(frozen=True)
class GroupOutcome:
    """A group's predicted figures (minutes; None when nobody of the group was served)."""

    code: str
    name: str
    tickets: int
    served: int
    mean_wait: float | None
    p90_wait: float | None
    cap_violations: int
    unserved: int


@dataclass(frozen=True)
class WindowOutcome:
    """A window's predicted calls and utilisation (busy ÷ time open) for the rest of the day."""

    id: str
    name: str
    groups: list[str]
    calls: int
    utilisation: float | None
    extra: bool = False


@dataclass(frozen=True)
class Outcome:
    """One configuration's rest of the day."""

    mean_wait: float | None
    p90_wait: float | None
    max_wait: float | None
    cap_violations: int
    tickets: int
    served: int
    unserved: int
    balked: int
    reneged: int
    utilisation: float | None
    groups: list[GroupOutcome]
    windows: list[WindowOutcome]


@dataclass(frozen=True)
class Basis:
    """What the prediction stands on."""

    now: float
    close: float
    waiting_now: int
    expected_arrivals: float
    windows_open: int
    seed: int


@dataclass(frozen=True)
class WhatIf:
    """Baseline and proposal on the same citizens, and the changes in words."""

    basis: Basis
    baseline: Outcome
    proposal: Outcome
    changes: list[str] = field(default_factory=list)


# --- building the run ---


def _clock(minutes: float) -> str:
    m = int(minutes)
    return f"{m // 60:02d}:{m % 60:02d}"


def scenario_of(today: Today) -> Scenario:
    """The rest of today as a simulator scenario: tickets from now to closing, today's rules and groups."""
    if today.now >= today.close - 1:
        raise HallError("closed", "今日办公时间已结束，无法推演剩余时段")
    curve = {h: w for h, w in today.curve.items() if w > 0} or {_clock(today.now)[:2]: 1.0}
    group_codes = {g.code for g in today.groups}
    # The scenario must name a window for every group; the live set-up (which may leave one out) is the Setup.
    served = {g for w in today.windows for g in w.groups}
    specs = [WindowSpec(count=1, groups=w.groups) for w in today.windows]
    if group_codes - served:
        specs.append(WindowSpec(count=1, groups=tuple(sorted(group_codes - served))))
    visits = min(max(1, round(today.expected_arrivals)), 100_000)
    return Scenario(
        key="whatif",
        name="今日剩余时段推演",
        seed=today.seed,
        day=today.day,
        hours=Hours(open=_clock(today.now), last_ticket=_clock(today.close), close=_clock(today.close)),
        visits=visits,
        arrival_curve=curve,
        green_share=today.green_share,
        appointments=Appointments(share=today.appointment_share),
        patience=today.patience,
        walk_minutes=today.walk_minutes,
        groups=tuple(
            GroupSpec(
                code=g.code,
                name=g.name,
                prefix=g.prefix,
                share=max(g.share, 1e-6),
                service=ServiceTime(mean=g.service_mean, cv=g.service_cv),
                default_service_minutes=g.service_mean,
                bookable=g.bookable,
            )
            for g in today.groups
        ),
        windows=tuple(specs),
        tickets=today.tickets,
        # Overflow rules name real window ids: they go with each Setup, not with the scenario's numbered windows.
        allocation=today.allocation.model_copy(update={"overflow": ()}),
    )


def day_of(today: Today, scenario: Scenario) -> Day:
    """Who is waiting now (at their place in line, never refusing the ticket they already hold), then the
    rest of the day's arrivals from the seeded curve."""
    rng = np.random.default_rng(today.seed + 1)
    p = today.patience
    present = []
    for i, t in enumerate(today.waiting):
        g = scenario.group(t.group)
        kind = GREEN if t.priority == "green" else BOOKED if t.priority == "appointment" else WALK_IN
        waited = max(0.0, today.now - t.queued)
        present.append(
            Citizen(
                idx=i,
                arrive=min(t.queued, today.now),
                group=t.group,
                kind=kind,
                slot=t.slot if kind == BOOKED else None,
                service=float(max(np.exp(g.service.mu + g.service.sigma * rng.standard_normal()), 0.3)),
                walk=float(today.walk_minutes * (0.5 + rng.random())),
                # Still here after `waited` minutes: their patience runs on from now.
                patience=float(waited + np.exp(rng.normal(np.log(p.renege_median), p.renege_sigma))),
                balk_limit=math.inf,
                walks_off_after=None,
            )
        )
    arrivals = generate(scenario).citizens if today.expected_arrivals >= 0.5 else ()
    everyone = sorted([*present, *arrivals], key=lambda c: c.arrive)
    return Day(tuple(replace(c, idx=i) for i, c in enumerate(everyone)), 0)


def _windows(today: Today, live: list[tuple[str, str, tuple[str, ...], float]]) -> tuple[SimWindow, ...]:
    """Sim windows: a zero-length break at `now` (or until the current visit ends) wakes each window at the
    start, and the closed gaps between sessions are breaks for all."""
    out = []
    for wid, kind, groups, busy_for in live:
        start = (today.now, today.now + max(0.0, busy_for))
        out.append(SimWindow(wid, kind, groups, (start, *today.gaps)))
    return tuple(out)


def _check_groups(today: Today, groups: list[str]) -> tuple[str, ...]:
    unknown = [g for g in groups if today.group(g) is None]
    if unknown:
        raise HallError("invalid", f"没有名为“{'、'.join(unknown)}”的队列", groups=unknown)
    return tuple(sorted(set(groups)))


def setups(today: Today, proposal: Proposal) -> tuple[Setup, Setup, list[str]]:
    """The live set-up and the proposed one, and the proposal in words (Chinese, for the page)."""
    policy = today.allocation.policy
    live = [(w.id, w.kind, w.groups, w.busy_for) for w in today.windows]
    current = today.allocation.overflow
    baseline = Setup("live", "当前配置", policy, _windows(today, live), baseline=True, overflow=current)
    by_id = {w.id: i for i, w in enumerate(today.windows)}
    changes = []
    proposed = list(live)
    for move in proposal.moves:
        if move.window_id not in by_id:
            raise HallError("invalid", f"窗口 {move.window_id} 不在当前开放的窗口中", window_id=move.window_id)
        groups = _check_groups(today, move.groups)
        wid, kind, _, busy = proposed[by_id[move.window_id]]
        proposed[by_id[move.window_id]] = (wid, kind, groups, busy)
        names = "、".join(today.group(g).name for g in groups)  # type: ignore[union-attr]
        changes.append(f"{today.windows[by_id[wid]].name}改办：{names}")
    extra_total = sum(x.count for x in proposal.extra_windows)
    if extra_total > MAX_EXTRA_WINDOWS:
        raise HallError("invalid", f"一次最多推演增开 {MAX_EXTRA_WINDOWS} 个窗口")
    n = 0
    for extra in proposal.extra_windows:
        groups = _check_groups(today, extra.groups)
        for _ in range(extra.count):
            n += 1
            proposed.append((f"{EXTRA_PREFIX}{n:02d}", "增开", groups, 0.0))
        names = "、".join(today.group(g).name for g in groups)  # type: ignore[union-attr]
        changes.append(f"增开 {extra.count} 个窗口办理：{names}")
    if proposal.overflow is not None:
        extra_ids = {f"{EXTRA_PREFIX}{i:02d}" for i in range(1, n + 1)}
        for rule in proposal.overflow:
            _check_groups(today, [rule.group])
            unknown = [w for w in rule.windows if w not in {*by_id, *today.hall_windows, *extra_ids}]
            if unknown:
                raise HallError("invalid", f"分流规则中的窗口 {'、'.join(unknown)} 不存在", windows=unknown)
            if rule not in current:
                changes.append(f"分流：{_rule_text(today, rule)}")
        changes += [f"取消分流：{_rule_text(today, r)}" for r in current if r not in proposal.overflow]
    rules = current if proposal.overflow is None else tuple(proposal.overflow)
    proposed_setup = Setup("proposal", "调整方案", policy, _windows(today, proposed), overflow=rules)
    return baseline, proposed_setup, changes


def _rule_text(today: Today, rule: OverflowRule) -> str:
    group = today.group(rule.group)
    return f"{group.name if group else rule.group}等候满 {rule.after_minutes} 分钟可由 {'、'.join(rule.windows)} 叫号"


# --- measuring ---


def _round(x: float | None) -> float | None:
    return None if x is None or math.isnan(x) else round(float(x), 1)


def _wait_until_resolved(r: SimResult, t: SimTicket) -> float:
    ends = [x for x in (t.called, t.left) if x is not None]
    return (min(ends) if ends else r.end) - t.issued


def outcome(today: Today, r: SimResult, names: dict[str, str]) -> Outcome:
    """Waits, cap violations (waited longer than the starvation cap, served or not) and utilisation."""
    cap = today.allocation.starvation_minutes
    served = [t for t in r.tickets if t.started is not None]
    waits = [t.called - t.issued for t in served]  # type: ignore[operator]
    over = [t for t in r.tickets if _wait_until_resolved(r, t) > cap]
    unserved = [t for t in r.tickets if t.called is None and t.left is None]
    groups = []
    for g in today.groups:
        mine = [t for t in r.tickets if t.citizen.group == g.code]
        own = [t.called - t.issued for t in mine if t.started is not None]  # type: ignore[operator]
        groups.append(
            GroupOutcome(
                code=g.code,
                name=g.name,
                tickets=len(mine),
                served=len(own),
                mean_wait=_round(float(np.mean(own))) if own else None,
                p90_wait=_round(float(np.percentile(own, 90))) if own else None,
                cap_violations=sum(1 for t in over if t.citizen.group == g.code),
                unserved=sum(1 for t in unserved if t.citizen.group == g.code),
            )
        )
    windows, busy_all, open_all = [], 0.0, 0.0
    for w in r.windows:
        end = max(today.close, w.last_finish)
        gaps = sum(max(0.0, min(hi, end) - max(lo, today.now)) for lo, hi in today.gaps)
        busy_before = w.spec.breaks[0][1] - w.spec.breaks[0][0]  # the visit under way at `now`
        span = end - today.now - gaps
        busy = w.busy_minutes + busy_before
        busy_all += busy
        open_all += span
        windows.append(
            WindowOutcome(
                id=w.spec.id,
                name=names.get(w.spec.id, w.spec.id),
                groups=list(w.spec.groups),
                calls=w.calls,
                utilisation=_round(100 * busy / span) if span > 0 else None,
                extra=w.spec.id.startswith(EXTRA_PREFIX),
            )
        )
    left = [t for t in r.tickets if t.left is not None and t.started is None]  # gave up (called later: absent)
    return Outcome(
        mean_wait=_round(float(np.mean(waits))) if waits else None,
        p90_wait=_round(float(np.percentile(waits, 90))) if waits else None,
        max_wait=_round(max(waits)) if waits else None,
        cap_violations=len(over),
        tickets=len(r.tickets),
        served=len(served),
        unserved=len(unserved),
        balked=len(r.balked),
        reneged=len(left),
        utilisation=_round(100 * busy_all / open_all) if open_all > 0 else None,
        groups=groups,
        windows=windows,
    )


def run(today: Today, proposal: Proposal) -> WhatIf:
    """Baseline and proposal on the same seeded citizens, through the real allocation policy."""
    scenario = scenario_of(today)
    baseline, proposed, changes = setups(today, proposal)
    day = day_of(today, scenario)
    policy = get_policy(today.allocation.policy)
    names = {w.id: w.name for w in today.windows}
    names |= {w.id: f"增开窗口{int(w.id[1:])}" for w in proposed.windows if w.id.startswith(EXTRA_PREFIX)}
    base = simulate(scenario, baseline, day, policy)
    prop = simulate(scenario, proposed, day, policy)
    basis = Basis(
        now=today.now,
        close=today.close,
        waiting_now=len(today.waiting),
        expected_arrivals=round(today.expected_arrivals, 1),
        windows_open=len(today.windows),
        seed=today.seed,
    )
    return WhatIf(basis, outcome(today, base, names), outcome(today, prop, names), changes)
