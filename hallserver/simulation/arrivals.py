"""The citizens of a simulated day, drawn once from the scenario's seed and shared by every policy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hallserver.simulation.scenario import Scenario, minutes_of

WALK_IN, GREEN, BOOKED = "walk_in", "green", "booked"


@dataclass(frozen=True, slots=True)
class Citizen:
    """One visit: when it comes, what it needs, how long it takes, how patient the person is."""

    idx: int
    arrive: float  # minutes after midnight
    group: str
    kind: str  # walk_in | green | booked
    slot: float | None  # booked slot start (minutes after midnight)
    service: float  # minutes at the window once seated
    walk: float  # minutes from the call to sitting down
    patience: float  # minutes of waiting after which the person leaves
    balk_limit: float  # a kiosk estimate above this and the person does not take a ticket
    walks_off_after: float | None  # no-show: leaves this many minutes after the ticket, whatever happens


@dataclass(frozen=True)
class Day:
    """Everyone who comes in, in arrival order, and the bookings nobody used."""

    citizens: tuple[Citizen, ...]
    booked_no_shows: int


def _hour_weights(curve: dict[str, float], start: float, end: float) -> tuple[np.ndarray, np.ndarray]:
    """Per clock hour: [from, to) minutes clipped to the ticket window, and weights scaled by the overlap."""
    spans, weights = [], []
    for hour, weight in sorted(curve.items()):
        lo, hi = max(int(hour) * 60, start), min(int(hour) * 60 + 60, end)
        if hi > lo and weight > 0:
            spans.append((lo, hi))
            weights.append(weight * (hi - lo) / 60)
    w = np.asarray(weights, dtype=float)
    return np.asarray(spans, dtype=float), w / w.sum()


def _times(rng: np.random.Generator, curve: dict[str, float], start: float, end: float, n: int) -> np.ndarray:
    """n arrival instants: an hour by the curve, then uniform within it (a Poisson day given its count)."""
    spans, p = _hour_weights(curve, start, end)
    pick = rng.choice(len(spans), size=n, p=p)
    lo, hi = spans[pick, 0], spans[pick, 1]
    return lo + rng.random(n) * (hi - lo)


def _slots(rng: np.random.Generator, s: Scenario, n: int) -> np.ndarray:
    """Booked slot starts, spread like the booking curve over the ticketing hours."""
    start, end = minutes_of(s.hours.open), minutes_of(s.hours.last_ticket)
    size = s.appointments.slot_minutes
    starts = np.arange(start, end, size, dtype=float)
    curve = s.appointments.curve or s.arrival_curve
    weights = np.asarray([curve.get(f"{int(t // 60):02d}", 0.0) for t in starts], dtype=float)
    if weights.sum() <= 0:
        weights = np.ones_like(starts)
    return starts[rng.choice(len(starts), size=n, p=weights / weights.sum())]


def generate(s: Scenario) -> Day:
    """The day's citizens from the scenario seed: identical for every configuration and policy."""
    rng = np.random.default_rng(s.seed)
    open_, last = minutes_of(s.hours.open), minutes_of(s.hours.last_ticket)
    n_booked = round(s.visits * s.appointments.share)
    n_walk = s.visits - n_booked
    n_green = min(n_walk, round(s.visits * s.green_share))
    codes = [g.code for g in s.groups]
    shares = np.asarray([g.share for g in s.groups], dtype=float)
    bookable = np.asarray([g.share if g.bookable else 0.0 for g in s.groups], dtype=float)

    walk_times = _times(rng, s.arrival_curve, open_, last, n_walk)
    walk_groups = rng.choice(len(codes), size=n_walk, p=shares / shares.sum())
    slots = _slots(rng, s, n_booked)
    early = rng.normal(s.appointments.early_mean, s.appointments.early_sd, n_booked)
    # Check-in opens `appointment_early_minutes` before the slot: earlier birds wait at the kiosk till then.
    booked_times = np.maximum(slots - np.minimum(early, s.tickets.appointment_early_minutes), open_)
    booked_groups = rng.choice(len(codes), size=n_booked, p=bookable / bookable.sum())

    arrive = np.concatenate([walk_times, booked_times])
    group_idx = np.concatenate([walk_groups, booked_groups])
    kinds = [GREEN] * n_green + [WALK_IN] * (n_walk - n_green) + [BOOKED] * n_booked
    slot_of = [None] * n_walk + [float(t) for t in slots]
    n = len(arrive)
    p = s.patience
    patience = np.exp(rng.normal(np.log(p.renege_median), p.renege_sigma, n))
    balk = np.exp(rng.normal(np.log(p.balk_median), p.balk_sigma, n))
    walks_off = rng.random(n) < p.no_show
    walks_off_after = 3 + rng.random(n) * 27
    walk = s.walk_minutes * (0.5 + rng.random(n))
    normal = rng.standard_normal(n)
    services = np.empty(n)
    for i, g in enumerate(s.groups):
        mask = group_idx == i
        services[mask] = np.maximum(np.exp(g.service.mu + g.service.sigma * normal[mask]), 0.3)

    order = np.argsort(arrive, kind="stable")
    citizens = []
    for idx, i in enumerate(order):
        booked = kinds[i] == BOOKED
        citizens.append(
            Citizen(
                idx=idx,
                arrive=float(arrive[i]),
                group=codes[int(group_idx[i])],
                kind=kinds[i],
                slot=slot_of[i],
                service=float(services[i]),
                walk=float(walk[i]),
                patience=float(patience[i] * (p.appointment_factor if booked else 1.0)),
                balk_limit=float(balk[i]),
                walks_off_after=float(walks_off_after[i]) if walks_off[i] and not booked else None,
            )
        )
    no_shows = round(n_booked * s.appointments.no_show / (1 - s.appointments.no_show))
    return Day(tuple(citizens), no_shows)
