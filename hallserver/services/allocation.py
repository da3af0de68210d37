"""Window allocation: which waiting ticket a window calls next. Policies are pure and pluggable."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from firmware_config.hall import AllocationRules, TicketRules
from hallserver.models import Priority


@dataclass(frozen=True)
class Candidate:
    """A waiting ticket a window may call."""

    ticket_id: int
    number: str
    group: str
    priority: str
    queue_key: datetime
    appointment_at: datetime | None
    target_window_id: str | None
    since: datetime | None = None  # when the starvation cap started counting: the issue, or the rejoin

    @property
    def cap_start(self) -> datetime:
        """The instant the starvation cap counts from (the issue, or the rejoin of a no-show who came back)."""
        return self.since or self.queue_key


@dataclass(frozen=True)
class Situation:
    """Everything a policy may look at: the window, the candidates, service times, the time."""

    window_id: str
    candidates: Sequence[Candidate]
    mean_service_min: Mapping[str, float]
    now: datetime
    tickets: TicketRules
    rules: AllocationRules
    groups: tuple[str, ...] = ()  # the window's own groups (the other candidates came by an overflow rule)


class Policy(Protocol):
    """Chooses the next ticket for a window, or None when nothing is eligible."""

    def __call__(self, situation: Situation) -> Candidate | None:
        """Pick one candidate."""
        ...


def _oldest(candidates: Sequence[Candidate]) -> Candidate | None:
    return min(candidates, key=lambda c: (c.queue_key, c.ticket_id), default=None)


def fifo(s: Situation) -> Candidate | None:
    """First come, first served across the window's groups (the baseline most halls run today).
    Tickets transferred to this very window still go first: nobody else may serve them."""
    directed = [c for c in s.candidates if c.target_window_id == s.window_id]
    return _oldest(directed) or _oldest(s.candidates)


def balanced(s: Situation) -> Candidate | None:
    """hallq's default, in order: tickets transferred to this window, green channel, on-time
    appointments whose slot has come, anything waiting past the starvation cap, then the group whose
    head has the highest response ratio (wait + service) / service — short services are not stuck
    behind long ones, and no group's wait grows without bound."""
    cands = s.candidates
    directed = [c for c in cands if c.target_window_id == s.window_id]
    if directed:
        return _oldest(directed)
    green = [c for c in cands if c.priority == Priority.green]
    if green:
        return _oldest(green)
    due = [
        c
        for c in cands
        if c.priority == Priority.appointment
        and c.appointment_at is not None
        # Due shortly before the slot (so a window frees up in time), not as soon as check-in opens 30 minutes
        # ahead: bench/hallsim showed that cost walk-ins dearly (149 past the cap vs 82, appointments on time).
        and c.appointment_at <= s.now + timedelta(minutes=s.rules.appointment_lead_minutes)
    ]
    if due:
        return min(due, key=lambda c: (c.appointment_at, c.queue_key, c.ticket_id))
    cap = s.now - timedelta(minutes=s.rules.starvation_minutes)
    starving = [c for c in cands if c.queue_key <= cap]
    if starving:
        return _oldest(starving)
    return _highest_ratio(cands, s)


def _highest_ratio(cands: Sequence[Candidate], s: Situation) -> Candidate | None:
    """The group head (oldest by queue place) with the highest response ratio (wait + service) / service."""
    heads: dict[str, Candidate] = {}
    for c in cands:
        head = heads.get(c.group)
        if head is None or (c.queue_key, c.ticket_id) < (head.queue_key, head.ticket_id):
            heads[c.group] = c
    if not heads:
        return None

    def ratio(c: Candidate) -> tuple[float, datetime]:
        service = max(s.mean_service_min.get(c.group, 10.0), 0.5)
        wait = max((s.now - c.queue_key).total_seconds() / 60, 0.0)
        return (-(wait + service) / service, c.queue_key)

    return min(heads.values(), key=ratio)


# --- fair: the hall-wide starvation promise -------------------------------------------------------------------


def deadline(c: Candidate, starvation_minutes: float) -> datetime:
    """When a ticket becomes late: a booking at its slot, a walk-in at the starvation cap after its issue (or
    its rejoin, for a no-show who came back)."""
    if c.priority == Priority.appointment and c.appointment_at is not None:
        return c.appointment_at
    return c.cap_start + timedelta(minutes=starvation_minutes)


def _booked(c: Candidate) -> bool:
    return c.priority == Priority.appointment and c.appointment_at is not None


def fair(s: Situation) -> Candidate | None:
    """Keeps the hall-wide promise (issue 19; bench/hallsim chose it by measurement). In order: tickets
    transferred to this window; green channel; then, earliest deadline first, every walk-in less than
    `cap_horizon_minutes` from the starvation cap and every booking less than `appointment_horizon_minutes`
    from its slot — a window acts before the cap instead of after it, and a booking is seen to while the
    queue allows rather than at its slot when a rush of walk-ins comes due together (a walk-in coming due
    calls its group's head, so a rejoined no-show or a transfer keeps its place); then balanced's
    response ratio over the walk-ins' group heads (short services not stuck behind long ones); a booking
    still early for its slot only when no walk-in waits. Tickets an overflow rule lets this window help
    with are candidates like its own (they only arrive once they have waited the rule's threshold)."""
    cands = s.candidates
    directed = [c for c in cands if c.target_window_id == s.window_id]
    if directed:
        return _oldest(directed)
    green = [c for c in cands if c.priority == Priority.green]
    if green:
        return _oldest(green)
    rules = s.rules
    walk_in_due = s.now + timedelta(minutes=rules.cap_horizon_minutes)
    booking_due = s.now + timedelta(minutes=rules.appointment_horizon_minutes)
    urgent = []
    for c in cands:
        due = deadline(c, rules.starvation_minutes)
        if due <= (booking_due if _booked(c) else walk_in_due):
            urgent.append((due, c.ticket_id, c))
    if urgent:
        first = min(urgent, key=lambda u: (u[0], u[1]))[2]
        if _booked(first):
            return first
        # A walk-in line comes due: its head goes, so a rejoined no-show or a transfer keeps its place.
        return _oldest([c for c in cands if c.group == first.group and not _booked(c)])
    walk_ins = [c for c in cands if c.priority != Priority.appointment]
    if not walk_ins:  # only bookings early for their slot: take the earliest rather than idle
        return min(cands, key=lambda c: (c.appointment_at or c.queue_key, c.ticket_id), default=None)
    return _highest_ratio(walk_ins, s)


POLICIES: dict[str, Callable[[Situation], Candidate | None]] = {"balanced": balanced, "fifo": fifo, "fair": fair}


def get_policy(name: str) -> Callable[[Situation], Candidate | None]:
    """A registered policy by name."""
    try:
        return POLICIES[name]
    except KeyError:
        raise ValueError(f"unknown allocation policy {name!r}; known: {sorted(POLICIES)}") from None
