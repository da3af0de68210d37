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


@dataclass(frozen=True)
class Situation:
    """Everything a policy may look at: the window, the candidates, service times, the time."""

    window_id: str
    candidates: Sequence[Candidate]
    mean_service_min: Mapping[str, float]
    now: datetime
    tickets: TicketRules
    rules: AllocationRules


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


POLICIES: dict[str, Callable[[Situation], Candidate | None]] = {"balanced": balanced, "fifo": fifo}


def get_policy(name: str) -> Callable[[Situation], Candidate | None]:
    """A registered policy by name."""
    try:
        return POLICIES[name]
    except KeyError:
        raise ValueError(f"unknown allocation policy {name!r}; known: {sorted(POLICIES)}") from None
