"""What a hall manager asks of a simulated day: waiting, punctuality, fairness, utilisation, abandonment."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hallserver.models import Priority
from hallserver.simulation.engine import SimResult
from hallserver.simulation.scenario import minutes_of

BUCKET = 30  # minutes per point of the waiting-over-the-day curves


def _pct(values: list[float], p: float) -> float:
    return float(np.percentile(values, p)) if values else math.nan


@dataclass(frozen=True)
class Metrics:
    """Figures of one configuration on one day (minutes unless said otherwise)."""

    setup: str
    label: str
    policy: str
    windows: int
    arrived: int
    served: int
    balked: int
    reneged: int  # took a ticket, left while waiting because it was long
    walked_off: int  # no-shows: took a ticket and left regardless
    unserved_at_close: int
    absent_calls: int
    mean_wait: float
    mean_wait_all: float  # every ticket holder, counting those who gave up until they left (no survivor bias)
    p50_wait: float
    p95_wait: float
    max_wait: float
    within_15: float  # share of served people called within 15 minutes
    within_30: float
    walk_in_max_wait: float
    walk_ins_over_cap: int  # walk-ins called after waiting longer than the starvation cap
    appointment_on_time: int
    appointment_p95_delay: float  # minutes after the slot start until the call, on-time bookings
    appointment_mean_delay: float
    green_mean_wait: float
    group_mean_wait: dict[str, float]
    fairness_ratio: float  # max / min of the group mean waits
    utilisation: float  # busy ÷ (scheduled + overtime worked), all windows
    overtime: float  # minutes after closing until the last window finished
    sim_seconds: float = 0.0

    @property
    def abandonment(self) -> float:
        """Share of arrivals who left without service because of waiting (balked or reneged)."""
        return (self.balked + self.reneged) / self.arrived if self.arrived else 0.0


def measure(r: SimResult, sim_seconds: float = 0.0) -> Metrics:
    """Metrics of a finished run."""
    s = r.scenario
    served = [t for t in r.tickets if t.started is not None]
    waits = [t.called - t.issued for t in served]  # type: ignore[operator]
    cap = s.allocation.starvation_minutes
    walk_in = [t.called - t.issued for t in served if t.priority == Priority.normal]  # type: ignore[operator]
    # On time: checked in by the slot start (a citizen 10 minutes late cannot be called at the slot).
    on_time = [t for t in served if t.priority == Priority.appointment and t.issued <= t.citizen.slot]  # type: ignore[operator]
    delays = [max(0.0, t.called - t.citizen.slot) for t in on_time]  # type: ignore[operator]
    green = [t.called - t.issued for t in served if t.priority == Priority.green]  # type: ignore[operator]
    by_group: dict[str, list[float]] = {g.code: [] for g in s.groups}
    for t, w in zip(served, waits, strict=True):
        by_group[t.citizen.group].append(w)
    group_mean = {g: float(np.mean(v)) for g, v in by_group.items() if v}
    lo = min(group_mean.values(), default=math.nan)
    close = minutes_of(s.hours.close)
    overtime = max(0.0, max((w.last_finish for w in r.windows), default=close) - close)
    scheduled = 0.0
    for win in r.windows:
        span = close - minutes_of(s.hours.open)
        span -= sum(hi - lo_ for lo_, hi in win.spec.breaks)
        scheduled += span + max(0.0, win.last_finish - close)
    left = [t for t in r.tickets if t.left is not None]
    return Metrics(
        setup=r.setup.key,
        label=r.setup.label,
        policy=r.setup.policy,
        windows=len(r.windows),
        arrived=len(r.day.citizens),
        served=len(served),
        balked=len(r.balked),
        reneged=sum(1 for t in left if t.citizen.walks_off_after is None),
        walked_off=sum(1 for t in left if t.citizen.walks_off_after is not None),
        unserved_at_close=sum(1 for t in r.tickets if t.called is None and t.left is None),
        absent_calls=sum(1 for t in r.tickets if t.absent),
        mean_wait=float(np.mean(waits)) if waits else math.nan,
        mean_wait_all=_mean_wait_all(r),
        p50_wait=_pct(waits, 50),
        p95_wait=_pct(waits, 95),
        max_wait=max(waits, default=math.nan),
        within_15=sum(w <= 15 for w in waits) / len(waits) if waits else math.nan,
        within_30=sum(w <= 30 for w in waits) / len(waits) if waits else math.nan,
        walk_in_max_wait=max(walk_in, default=math.nan),
        walk_ins_over_cap=sum(w > cap for w in walk_in),
        appointment_on_time=len(on_time),
        appointment_p95_delay=_pct(delays, 95),
        appointment_mean_delay=float(np.mean(delays)) if delays else math.nan,
        green_mean_wait=float(np.mean(green)) if green else math.nan,
        group_mean_wait=group_mean,
        fairness_ratio=max(group_mean.values()) / lo if lo and lo > 0 else math.inf,
        utilisation=sum(w.busy_minutes for w in r.windows) / scheduled if scheduled else math.nan,
        overtime=overtime,
        sim_seconds=sim_seconds,
    )


def _mean_wait_all(r: SimResult) -> float:
    """Mean time from ticket to call, or to giving up, or to the end of the day, over every ticket holder."""
    spans = []
    for t in r.tickets:
        ends = [x for x in (t.called, t.left) if x is not None]
        spans.append((min(ends) if ends else r.end) - t.issued)
    return float(np.mean(spans)) if spans else math.nan


def wait_curve(r: SimResult, percentile: float | None = None) -> tuple[list[float], list[float]]:
    """Mean (or a percentile of the) wait of the people served, by the half hour they took their ticket;
    x in hours after midnight."""
    sums: dict[int, list[float]] = {}
    for t in r.tickets:
        if t.started is not None:
            sums.setdefault(int(t.issued // BUCKET), []).append(t.called - t.issued)  # type: ignore[operator]
    keys = sorted(sums)
    stat = np.mean if percentile is None else (lambda v: np.percentile(v, percentile))
    return [k * BUCKET / 60 + BUCKET / 120 for k in keys], [float(stat(sums[k])) for k in keys]


def queue_curve(r: SimResult, step: float = 5.0) -> tuple[list[float], list[int]]:
    """People present and waiting (ticket taken, not called, not gone) every `step` minutes."""
    deltas: list[tuple[float, int]] = []
    for t in r.tickets:
        deltas.append((t.issued, 1))
        gone = [x for x in (t.called, t.left) if x is not None]
        if gone:
            deltas.append((min(gone), -1))
    deltas.sort()
    open_ = minutes_of(r.scenario.hours.open)
    end = max(minutes_of(r.scenario.hours.close), r.end)
    xs: list[float] = []
    ys: list[int] = []
    level, i = 0, 0
    at = open_
    while at <= end:
        while i < len(deltas) and deltas[i][0] <= at:
            level += deltas[i][1]
            i += 1
        xs.append(at / 60)
        ys.append(level)
        at += step
    return xs, ys
