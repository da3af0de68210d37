"""call_next loads only the tickets a policy can choose (candidates.load) and still chooses exactly what a full
scan of the queue would; overflow rules and rejoined no-shows on a real database."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session

from firmware_config.hall import AllocationRules, OverflowRule, TicketRules
from hallcore.clock import ManualClock
from hallserver.db import make_engine, session_scope
from hallserver.models import Priority, Ticket, TicketEvent, TicketState
from hallserver.services import allocation, candidates, ticket_rows, tickets, windows
from hallserver.services.context import HallContext
from tests.conftest import local
from tests.integration.helpers import issue, reload, tx

NOW = local(2026, 11, 23, 11, 0)
WINDOW = "w17"  # assist + consult
OWN = ("assist", "consult")
HELPED = "complaint"  # by the overflow rule below, after 20 minutes
OTHER = "police"  # neither: never a candidate unless transferred to this very window
RULES = (OverflowRule(group=HELPED, windows=(WINDOW,), after_minutes=20),)
MEANS = {"assist": 4.0, "consult": 2.0, "complaint": 5.0, "police": 3.0}
CAP = 60

ticket_spec = st.fixed_dictionaries(
    {
        "group": st.sampled_from([*OWN, HELPED, OTHER]),
        "priority": st.sampled_from([Priority.normal] * 4 + [Priority.green, Priority.appointment]),
        "age": st.integers(0, 120),  # minutes since issue
        "slot_in": st.sampled_from([-20, -5, 0, 0, 5, 10, 15, 30, 30]),  # bookings: slot from now (ties)
        "target": st.sampled_from([None] * 6 + [WINDOW, "w01"]),
        "called_before": st.sampled_from([False] * 4 + [True]),
        "rejoined_ago": st.one_of(st.none(), st.integers(0, 90)),
        "same_instant": st.booleans(),  # share the previous ticket's issue time (ties by id)
    }
)


@pytest.fixture(scope="module")
def db(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("candidates") / "hall.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def _fill(session: Session, specs: list[dict]) -> None:
    """Replace the day's queue with these tickets (one bulk insert: hypothesis runs this many times)."""
    session.execute(sa.delete(TicketEvent))
    session.execute(sa.delete(Ticket))
    rows, events = [], []
    issued = NOW
    for i, spec in enumerate(specs):
        if not spec["same_instant"] or i == 0:
            issued = NOW - timedelta(minutes=spec["age"], seconds=i)
        queue_key = issued
        rejoin = None
        if spec["called_before"] and spec["rejoined_ago"] is not None:
            rejoin = max(issued, NOW - timedelta(minutes=spec["rejoined_ago"]))
            queue_key = issued + (rejoin - issued) / 2  # three places behind the head: between issue and rejoin
            events.append(
                {
                    "ticket_id": i + 1,
                    "at": rejoin,
                    "action": "rejoin",
                    "from_state": TicketState.no_show,
                    "to_state": TicketState.waiting,
                    "group_code": spec["group"],
                }
            )
        appointment = spec["priority"] == Priority.appointment
        rows.append(
            {
                "id": i + 1,
                "number": f"Z{i:03d}",
                "series": "Z",
                "seq": i,
                "service_date": NOW.date(),
                "group_code": spec["group"],
                "priority": spec["priority"],
                "channel": "kiosk",
                "state": TicketState.waiting,
                "issued_at": issued,
                "queue_key": queue_key,
                "appointment_at": NOW + timedelta(minutes=spec["slot_in"]) if appointment else None,
                "target_window_id": spec["target"],
                "call_count": 1 if spec["called_before"] else 0,
                "public_token": f"t{i:031d}",
            }
        )
    if rows:
        session.execute(sa.insert(Ticket), rows)
    if events:
        session.execute(sa.insert(TicketEvent), events)


def _choice(policy: str, cands: list[allocation.Candidate]) -> int | None:
    s = allocation.Situation(WINDOW, cands, MEANS, NOW, TicketRules(), AllocationRules(overflow=RULES), OWN)
    chosen = allocation.get_policy(policy)(s)
    return None if chosen is None else chosen.ticket_id


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(ticket_spec, max_size=25))
def test_the_bounded_query_chooses_what_a_full_scan_chooses(db: Engine, specs: list[dict]) -> None:
    where = candidates.reach(WINDOW, OWN, RULES)
    with Session(db) as s:  # rolled back at the end: nothing to write to disk per example
        _fill(s, specs)
        full = candidates.load_all(s, NOW.date(), where, NOW)
        bounded = candidates.load(s, NOW.date(), where, NOW)
        assert len(bounded) <= len(full)
        assert {c.ticket_id for c in bounded} <= {c.ticket_id for c in full}
        for policy in allocation.POLICIES:
            first = _choice(policy, full)
            assert _choice(policy, bounded) == first, policy
            if first is not None:  # another window claimed it: the reload without it agrees again
                rest = [c for c in full if c.ticket_id != first]
                again = candidates.load(s, NOW.date(), where, NOW, frozenset({first}))
                assert _choice(policy, again) == _choice(policy, rest), policy


def test_the_bounded_query_does_not_grow_with_the_queue(db: Engine) -> None:
    specs = [
        {
            "group": OWN[i % 2],
            "priority": Priority.normal,
            "age": i % 90,
            "slot_in": 0,
            "target": None,
            "called_before": False,
            "rejoined_ago": None,
            "same_instant": False,
        }
        for i in range(2000)
    ]
    where = candidates.reach(WINDOW, OWN, RULES)
    with session_scope(db) as s:
        _fill(s, specs)
        assert len(candidates.load_all(s, NOW.date(), where, NOW)) == 2000
        loaded = candidates.load(s, NOW.date(), where, NOW)
    assert len(loaded) == 2  # the oldest fresh walk-in of each of the window's two groups


def test_the_cap_counts_from_the_rejoin_of_a_no_show(db: Engine) -> None:
    spec = {"group": "consult", "priority": Priority.normal, "age": 100, "slot_in": 0, "target": None}
    with session_scope(db) as s:
        _fill(s, [{**spec, "called_before": True, "rejoined_ago": 10, "same_instant": False}])
        (c,) = candidates.load(s, NOW.date(), candidates.reach(WINDOW, OWN, ()), NOW)
    assert c.cap_start == NOW - timedelta(minutes=10)  # not the issue 100 minutes ago
    assert c.queue_key < c.cap_start  # its queue place stays ahead of its rejoin


def _with_rules(ctx: HallContext, *rules: OverflowRule) -> HallContext:
    allocation_rules = ctx.profile.allocation.model_copy(update={"overflow": rules})
    return dataclasses.replace(ctx, profile=ctx.profile.model_copy(update={"allocation": allocation_rules}))


def test_an_overflow_window_calls_the_helped_groups_ticket_only_after_the_threshold(
    engine: Engine, ctx: HallContext, clock: ManualClock
) -> None:
    helped = _with_rules(ctx, OverflowRule(group="complaint", windows=("w16",), after_minutes=20))
    complaint = issue(engine, helped, group="complaint")
    clock.advance(minutes=19)
    assert tx(engine, lambda s: windows.call_next(s, helped, "w16")) is None  # consult only, too young
    clock.advance(minutes=1)
    assert tx(engine, lambda s: windows.call_next(s, ctx, "w16")) is None  # no rule: never
    called = tx(engine, lambda s: windows.call_next(s, helped, "w16"))
    assert called is not None and called.id == complaint.id
    assert reload(engine, complaint.id).window_id == "w16"  # type: ignore[arg-type]


def test_a_rejoined_no_show_is_not_treated_as_starving(engine: Engine, ctx: HallContext, clock: ManualClock) -> None:
    # A consult ticket (issued at 0) is called at the consult-only window at 35, does not come, and rejoins at
    # 60; an assist walk-in issued at 1 has then waited 59. Counted from the issue, the rejoined ticket would
    # be due at 60, before the walk-in (61), and be called; counted from its rejoin it is due at 120.
    assert ctx.profile.allocation.policy == "fair"
    early = issue(engine, ctx, group="consult")
    clock.advance(minutes=1)
    walk_in = issue(engine, ctx, group="assist")
    clock.advance(minutes=34)
    assert tx(engine, lambda s: windows.call_next(s, ctx, "w16")).id == early.id  # type: ignore[union-attr]
    tx(engine, lambda s: windows.no_show(s, ctx, "w16"))
    clock.advance(minutes=25)
    tx(engine, lambda s: tickets.rejoin_ticket(s, ctx, early.id))  # type: ignore[arg-type]
    called = tx(engine, lambda s: windows.call_next(s, ctx, "w17"))
    assert called is not None and called.id == walk_in.id
    assert tx(engine, lambda s: windows.call_next(s, ctx, "w16")).id == early.id  # type: ignore[union-attr]


def test_a_helped_groups_threshold_applies_before_picking_its_first_booking(db: Engine) -> None:
    # Bookings of the helped group: A (issued 5 min ago, slot now) has not waited the 20-minute threshold;
    # B (25 min, slot in 5) and C (40 min, slot in 30) have. The earliest visible slot is B's: fair calls it.
    def booking(age: int, slot_in: int) -> dict:
        return {
            "group": HELPED,
            "priority": Priority.appointment,
            "age": age,
            "slot_in": slot_in,
            "target": None,
            "called_before": False,
            "rejoined_ago": None,
            "same_instant": False,
        }

    where = candidates.reach(WINDOW, OWN, RULES)
    with Session(db) as s:
        _fill(s, [booking(5, 0), booking(25, 5), booking(40, 30)])
        bounded = candidates.load(s, NOW.date(), where, NOW)
    assert sorted(c.number for c in bounded) == ["Z001", "Z002"]
    assert _choice("fair", bounded) == 2


def test_every_part_of_the_candidate_statement_is_an_index_search(db: Engine) -> None:
    """SQLite's plan of the statement call next sends, with a helped group and a skipped ticket: every part is
    a search in an index of the line (never a scan of the day's tickets), so its cost does not grow with the
    queue; the tickets called before or redirected come from their own partial index."""
    where = candidates.reach(WINDOW, OWN, RULES)
    groups = [*where.groups, *where.helps]
    statement = candidates._statement(len(groups), tuple(g in where.helps for g in groups), 1)
    params = {"day": NOW.date(), "window": WINDOW, "s0": 1} | {f"g{i}": g for i, g in enumerate(groups)}
    params |= {f"by{i}": NOW for i, g in enumerate(groups) if g in where.helps}
    with db.connect() as conn:
        sql, bound = ticket_rows.for_driver(db.dialect, statement, params)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        plan = [row[3] for row in cursor.execute("EXPLAIN QUERY PLAN " + sql, bound).fetchall()]
    reads = [step for step in plan if "ticket" in step and ("SEARCH" in step or "SCAN" in step)]
    assert len(reads) == 1 + 5 * len(groups), plan
    assert not [step for step in reads if step.startswith("SCAN")], plan
    assert "ix_ticket_revisits" in reads[0], plan
    assert all("ix_ticket_kind_line" in s or "ix_ticket_booking_line" in s for s in reads[1:]), plan
