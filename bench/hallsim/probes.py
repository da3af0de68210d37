"""What the real `balanced` policy does in three tiny situations, so the report describes the code as it is
now (the allocation module keeps changing) instead of as it was when the report was written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bench.hallsim.runner import resolve
from firmware_config.hall import AllocationRules, TicketRules
from hallserver.models import Priority
from hallserver.services.allocation import Candidate, Situation

NOW = datetime.fromisoformat("2026-11-23T10:00:00+08:00")


@dataclass(frozen=True)
class Behaviour:
    """Answers of the real policy to the three probes."""

    early_appointment_first: bool  # a booking whose slot starts in 20 min beats a walk-in waiting 10 min
    due_appointment_beats_starving: bool  # a booking at its slot beats a walk-in already past the cap
    unprotected_before_cap: bool  # a walk-in 5 min short of the cap loses to a short-service ticket


def _cand(i: int, group: str, waited: float, priority: Priority = Priority.normal, slot_in: float | None = None):
    slot = NOW + timedelta(minutes=slot_in) if slot_in is not None else None
    return Candidate(i, f"T{i:03d}", group, priority.value, NOW - timedelta(minutes=waited), slot, None)


def _pick(cands: list[Candidate], policy: str) -> int | None:
    rules, tickets = AllocationRules(), TicketRules()
    means = {"long": 20.0, "short": 2.0}
    choice = resolve(policy)(Situation("w01", cands, means, NOW, tickets, rules))
    return None if choice is None else choice.ticket_id


def probe(policy: str = "balanced") -> Behaviour:
    """Run the three probes against the named real policy."""
    cap = AllocationRules().starvation_minutes
    early = _pick([_cand(1, "long", 10), _cand(2, "long", 1, Priority.appointment, slot_in=20)], policy) == 2
    beats = _pick([_cand(1, "long", cap + 1), _cand(2, "long", 1, Priority.appointment, slot_in=0)], policy) == 2
    unprotected = _pick([_cand(1, "long", cap - 5), _cand(2, "short", 10)], policy) == 2
    return Behaviour(early, beats, unprotected)
