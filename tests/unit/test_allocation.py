"""Allocation policies as pure functions: priorities, starvation, balancing, FIFO baseline."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from firmware_config.hall import AllocationRules, TicketRules
from hallserver.services.allocation import Candidate, Situation, balanced, fair, fifo, get_policy
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


# --- fair (the default): earliest deadline first near the cap or the slot, else the response ratio ---


def pick(*cands: Candidate) -> int | None:
    chosen = fair(situation(*cands))
    return None if chosen is None else chosen.ticket_id


def test_fair_is_the_default_and_registered() -> None:
    assert AllocationRules().policy == "fair"
    assert get_policy("fair") is fair
    assert pick() is None


def test_fair_serves_this_windows_transfers_then_green_first() -> None:
    assert pick(cand(1, waited=59), cand(2, waited=1, target="w01"), cand(3, priority="green")) == 2
    assert pick(cand(1, waited=59), cand(2, waited=1, priority="green")) == 2


def test_fair_calls_a_walk_in_five_minutes_before_the_cap_where_balanced_would_not() -> None:
    # property waited 56 (ratio (56+20)/20 = 3.8) against police 25 ((25+8)/8 = 4.1): balanced takes police,
    # fair sees property's deadline 4 minutes away (≤ the 5-minute cap horizon) and takes it.
    cands = (cand(1, group="property", waited=56), cand(2, group="police", waited=25))
    assert balanced(situation(*cands)).ticket_id == 2  # type: ignore[union-attr]
    assert pick(*cands) == 1
    # 54 minutes: 6 from the cap, outside the horizon: the response ratio decides as in balanced.
    assert pick(cand(1, group="property", waited=54), cand(2, group="police", waited=25)) == 2


def test_fair_orders_walk_ins_and_bookings_by_deadline() -> None:
    booking = cand(2, priority="appointment", waited=3, appointment_at=NOW + timedelta(minutes=2))
    assert pick(cand(1, waited=57), booking) == 2  # slot in 2 < cap in 3
    assert pick(cand(1, waited=59), booking) == 1  # cap in 1 < slot in 2


def test_fair_sees_to_a_booking_fifteen_minutes_before_its_slot_not_earlier() -> None:
    soon = cand(2, priority="appointment", waited=1, appointment_at=NOW + timedelta(minutes=14))
    later = cand(2, priority="appointment", waited=1, appointment_at=NOW + timedelta(minutes=16))
    assert pick(cand(1, waited=30), soon) == 2
    assert pick(cand(1, waited=30), later) == 1
    assert pick(later) == 2  # nobody else: better now than idle


def test_fair_counts_the_cap_from_a_rejoin() -> None:
    # Queued 58 minutes ago (its place), but it rejoined 10 minutes ago: its deadline is 50 minutes away.
    rejoined = Candidate(
        1, "T001", "property", "normal", NOW - timedelta(minutes=58), None, None, NOW - timedelta(minutes=10)
    )
    assert rejoined.cap_start == NOW - timedelta(minutes=10)
    assert pick(rejoined, cand(2, group="police", waited=30)) == 2  # by ratio: (30+8)/8 > (58+20)/20
    fresh = cand(1, group="property", waited=58)
    assert fresh.cap_start == fresh.queue_key
    assert pick(fresh, cand(2, group="police", waited=30)) == 1  # its cap is 2 minutes away


def test_fair_keeps_a_rejoined_tickets_place_when_its_line_comes_due() -> None:
    # The rejoined ticket stands ahead of a walk-in about to reach the cap in the same line: the line is due,
    # its head goes first. Its own cap (from the rejoin) is far away, so it alone would not be urgent.
    rejoined = Candidate(
        1, "T001", "police", "normal", NOW - timedelta(minutes=59), None, None, NOW - timedelta(minutes=5)
    )
    assert pick(rejoined, cand(2, group="police", waited=57), cand(3, group="property", waited=40)) == 1
    assert pick(rejoined, cand(3, group="property", waited=57)) == 3
