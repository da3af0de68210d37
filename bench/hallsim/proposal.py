"""PROPOSALS ONLY — bench-side variants of hallq's `balanced` policy, to show with numbers what a change to
hallserver/services/allocation.py would do. The hall server never uses these; the simulator runs them only
under their own names, next to the real policies.

`deadline` keeps balanced's order (transferred, green, appointments, anti-starvation, response ratio) but
changes two things:
1. An appointment is due when its slot starts, not when it checks in (balanced originally used
   `appointment_at <= now + appointment_early_minutes`; check-in opens exactly that early, so every booking
   took a window up to 30 minutes before its slot. bench/hallsim/probes.py tells whether it still does).
2. Anti-starvation acts BEFORE the cap, not at it: every ticket has a deadline (an appointment: its slot;
   a walk-in: ticket time + starvation_minutes) and those whose deadline is less than `horizon` minutes
   away are called earliest-deadline-first, appointments and walk-ins together. balanced only reacts once
   a walk-in has already waited the cap, and then still puts every due appointment first, so in a rush a
   whole cohort of walk-ins crosses the cap together.
Outside the deadline tier it is balanced's response ratio over group heads, unchanged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from hallserver.models import Priority
from hallserver.services.allocation import Candidate, Situation, balanced

HORIZON_MIN = 15.0


def _oldest(cands: list[Candidate]) -> Candidate | None:
    return min(cands, key=lambda c: (c.queue_key, c.ticket_id), default=None)


def _deadline(c: Candidate, cap: timedelta) -> datetime:
    if c.priority == Priority.appointment and c.appointment_at is not None:
        return c.appointment_at
    return c.queue_key + cap


def deadline(s: Situation, horizon_min: float = HORIZON_MIN) -> Candidate | None:
    """PROPOSAL: balanced with appointments due at their slot and an earliest-deadline tier before the cap."""
    cands = list(s.candidates)
    directed = [c for c in cands if c.target_window_id == s.window_id]
    if directed:
        return _oldest(directed)
    green = [c for c in cands if c.priority == Priority.green]
    if green:
        return _oldest(green)
    cap = timedelta(minutes=s.rules.starvation_minutes)
    horizon = s.now + timedelta(minutes=horizon_min)
    urgent = [(_deadline(c, cap), c.ticket_id, c) for c in cands if _deadline(c, cap) <= horizon]
    if urgent:
        return min(urgent, key=lambda u: (u[0], u[1]))[2]
    early = [c for c in cands if c.priority == Priority.appointment]
    walk_ins = [c for c in cands if c.priority != Priority.appointment]
    if not walk_ins:  # nothing else to do: take the earliest booking now rather than idle
        return min(early, key=lambda c: (c.appointment_at or c.queue_key, c.ticket_id), default=None)
    # balanced's response-ratio step over the walk-ins (nothing in it is starving or directed any more).
    return balanced(Situation(s.window_id, walk_ins, s.mean_service_min, s.now, s.tickets, s.rules))


VARIANTS: dict[str, Callable[[Situation], Candidate | None]] = {"deadline": deadline}
