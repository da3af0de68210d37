"""M/M/c reference (Erlang C), computed stably for hundreds of servers, and its use as a pooled-hall baseline.

Erlang B by its recursion B(0)=1, B(k) = a·B(k−1) / (k + a·B(k−1)) never forms a^c or c!, so it neither
overflows nor loses precision at c = 500; Erlang C follows as C = c·B / (c − a·(1 − B))."""

from __future__ import annotations

import math
from dataclasses import dataclass

from hallserver.simulation.scenario import Scenario, minutes_of


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of M/M/c/c with `load` = λ/μ erlangs."""
    if servers < 0 or load < 0:
        raise ValueError("servers and load must be non-negative")
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits in M/M/c (1.0 when load ≥ servers: the queue grows for ever)."""
    if servers <= 0:
        raise ValueError("need at least one server")
    if load >= servers:
        return 1.0
    b = erlang_b(servers, load)
    return servers * b / (servers - load * (1 - b))


def mean_wait(servers: int, arrival_rate: float, mean_service: float) -> float:
    """Mean wait in queue Wq of M/M/c, in the time unit of the inputs (inf when overloaded)."""
    load = arrival_rate * mean_service
    if load >= servers:
        return math.inf
    return erlang_c(servers, load) * mean_service / (servers - load)


def wait_quantile_excess(servers: int, arrival_rate: float, mean_service: float, t: float) -> float:
    """P(Wq > t) = C · exp(−(cμ − λ) t)."""
    load = arrival_rate * mean_service
    if load >= servers:
        return 1.0
    return erlang_c(servers, load) * math.exp(-(servers / mean_service - arrival_rate) * t)


@dataclass(frozen=True)
class HourReference:
    """The M/M/c figures of one clock hour of a pooled hall, as if that hour were a steady state."""

    hour: int
    arrivals: float  # per hour
    windows: int
    load: float  # erlangs
    utilisation: float
    p_wait: float
    wq_mmc: float  # minutes
    wq_allen_cunneen: float  # M/G/c approximation: Wq(M/M/c) × (1 + cs²) / 2


@dataclass(frozen=True)
class Reference:
    """M/M/c for a pooled hall: the whole day as one steady state, and hour by hour."""

    hours: list[HourReference]
    day: HourReference  # the day's mean arrival rate on all windows (hour = -1)
    overloaded_hours: list[int]
    mean_service: float
    service_scv: float


def _curve_share(curve: dict[str, float], hour: int, open_: float, last: float) -> float:
    """Share of a curve's arrivals that fall in one clock hour, clipped to the ticketing hours."""

    def weight(h: str, w: float) -> float:
        return w * max(0.0, min(int(h) * 60 + 60, last) - max(int(h) * 60, open_)) / 60

    total = sum(weight(h, w) for h, w in curve.items())
    return weight(f"{hour:02d}", curve.get(f"{hour:02d}", 0.0)) / total if total else 0.0


def _hour(hour: int, per_hour: float, windows: int, es: float, scv: float) -> HourReference:
    lam = per_hour / 60
    wq = mean_wait(windows, lam, es)
    load = lam * es
    return HourReference(hour, per_hour, windows, load, load / windows, erlang_c(windows, load), wq, wq * (1 + scv) / 2)


def pooled_reference(s: Scenario) -> Reference:
    """λ from the walk-in and booking curves, E[S] including the walk to the window, c = windows not on a
    break. An hour with λE[S] ≥ c has no steady state (Wq = ∞): the queue builds and drains later, which
    is exactly what the simulator shows and a stationary formula cannot."""
    open_, last = minutes_of(s.hours.open), minutes_of(s.hours.last_ticket)
    es = s.mean_service() + s.walk_minutes
    scv = s.service_scv() * (s.mean_service() / es) ** 2
    booked = s.visits * s.appointments.share
    walk_ins = s.visits - booked
    booking_curve = s.appointments.curve or s.arrival_curve
    hours, over = [], []
    for hour in range(int(open_ // 60), math.ceil(last / 60)):
        span = (min(hour * 60 + 60, last) - max(hour * 60, open_)) / 60
        if span <= 0:
            continue
        arrivals = walk_ins * _curve_share(s.arrival_curve, hour, open_, last)
        arrivals += booked * _curve_share(booking_curve, hour, open_, last)
        ref = _hour(hour, arrivals / span, s.window_count - _on_break(s, hour * 60 + 30), es, scv)
        hours.append(ref)
        if math.isinf(ref.wq_mmc):
            over.append(hour)
    breaks = sum(_on_break(s, m) for m in range(int(open_), int(last))) / (last - open_)
    day = _hour(-1, s.visits / ((last - open_) / 60), round(s.window_count - breaks), es, scv)
    return Reference(hours, day, over, es, scv)


def _on_break(s: Scenario, minute: float) -> int:
    """Windows on a break at this minute under the staggered-break rota (window i takes break i mod n)."""
    if not s.staggered_breaks:
        return 0
    n, k = s.window_count, len(s.staggered_breaks)
    off = 0
    for j, (lo, hi) in enumerate(s.staggered_breaks):
        if minutes_of(lo) <= minute < minutes_of(hi):
            off += n // k + (1 if j < n % k else 0)
    return off
