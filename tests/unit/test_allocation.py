"""Allocation policies as pure functions: priorities, starvation, balancing, FIFO baseline."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from firmware_config.hall import AllocationRules, TicketRules
from hallserver.services.allocation import Candidate, Situation, balanced, fifo, get_policy
from tests.conftest import local

NOW = local(2026, 11, 23, 10, 0)


def cand(
    tid: int,
    group: str = "police",
    waited: float = 5,
    priority: str = "normal",
    appointment_at: datetime | None = None,
    target: str | None = None,
) -> Candidate:
    return Candidate(tid, f"T{tid:03d}", group, priority, NOW - timedelta(minutes=waited), appointment_at, target)


def situation(*cands: Candidate, means: dict[str, float] | None = None) -> Situation:
    return Situation(
        "w01",
        list(cands),
        means or {"police": 8, "property": 20, "social": 10},
        NOW,
        TicketRules(),
        AllocationRules(starvation_minutes=60),
    )


def test_nothing_waiting() -> None:
    assert balanced(situation()) is None
    assert fifo(situation()) is None


def test_ticket_transferred_to_this_window_goes_first() -> None:
    s = situation(cand(1, waited=50), cand(2, waited=1, target="w01"), cand(3, priority="green"))
    assert balanced(s).ticket_id == 2  # type: ignore[union-attr]
    assert fifo(s).ticket_id == 2  # type: ignore[union-attr]


def test_green_channel_before_everyone_else() -> None:
    s = situation(cand(1, waited=59), cand(2, waited=1, priority="green"))
    assert balanced(s).ticket_id == 2  # type: ignore[union-attr]


def test_on_time_appointment_before_walk_ins() -> None:
    slot = NOW - timedelta(minutes=2)  # the slot has started
    s = situation(cand(1, waited=40), cand(2, waited=12, priority="appointment", appointment_at=slot))
    assert balanced(s).ticket_id == 2  # type: ignore[union-attr]


def test_appointment_checked_in_early_waits_for_its_slot() -> None:
    # Checked in 10 minutes early: no priority yet (lead 5 minutes), so the walk-in who waited 40 goes first.
    slot = NOW + timedelta(minutes=10)
    s = situation(cand(1, waited=40), cand(2, waited=2, priority="appointment", appointment_at=slot))
    assert balanced(s).ticket_id == 1  # type: ignore[union-attr]
    soon = situation(
        cand(1, waited=40), cand(2, waited=2, priority="appointment", appointment_at=NOW + timedelta(minutes=4))
    )
    assert balanced(soon).ticket_id == 2  # type: ignore[union-attr]


def test_appointment_far_ahead_of_its_slot_waits_like_anyone() -> None:
    slot = NOW + timedelta(minutes=90)
    s = situation(cand(1, waited=40), cand(2, waited=2, priority="appointment", appointment_at=slot))
    assert balanced(s).ticket_id == 1  # type: ignore[union-attr]


def test_earlier_slot_first_among_appointments() -> None:
    s = situation(
        cand(1, priority="appointment", waited=20, appointment_at=NOW + timedelta(minutes=5)),
        cand(2, priority="appointment", waited=1, appointment_at=NOW - timedelta(minutes=5)),
    )
    assert balanced(s).ticket_id == 2  # type: ignore[union-attr]


def test_starvation_cap_beats_balancing() -> None:
    # A long-service group's ticket past the cap goes next even though short services rank higher.
    s = situation(cand(1, group="property", waited=61), cand(2, group="police", waited=59))
    assert balanced(s).ticket_id == 1  # type: ignore[union-attr]


def test_balancing_prefers_short_services_at_equal_waits() -> None:
    s = situation(cand(1, group="property", waited=10), cand(2, group="police", waited=10))
    assert balanced(s).ticket_id == 2  # type: ignore[union-attr]


def test_balancing_lets_a_long_waiting_group_through() -> None:
    # property waited 45 min (ratio (45+20)/20 = 3.25) beats police at 10 min ((10+8)/8 = 2.25).
    s = situation(cand(1, group="property", waited=45), cand(2, group="police", waited=10))
    assert balanced(s).ticket_id == 1  # type: ignore[union-attr]


def test_within_a_group_the_oldest_goes_first() -> None:
    s = situation(cand(1, waited=3), cand(2, waited=9), cand(3, waited=6))
    assert balanced(s).ticket_id == 2  # type: ignore[union-attr]


def test_fifo_ignores_service_times() -> None:
    s = situation(cand(1, group="property", waited=11), cand(2, group="police", waited=10))
    assert fifo(s).ticket_id == 1  # type: ignore[union-attr]


def test_policy_registry() -> None:
    assert get_policy("balanced") is balanced
    with pytest.raises(ValueError, match="unknown allocation policy"):
        get_policy("random")
