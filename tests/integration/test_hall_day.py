"""A whole hall day through the services on an injected clock, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from hallcore.clock import ManualClock
from hallcore.errors import HallError
from hallserver.models import Outcome, Priority
from hallserver.services import estimates, tickets, windows
from hallserver.services.context import HallContext
from tests.conftest import local
from tests.integration.helpers import id_number, issue, item_in, reload, tx


def serve(
    engine: Engine,
    ctx: HallContext,
    clock: ManualClock,
    window: str,
    minutes: float,
    outcome: Outcome = Outcome.consulted,
) -> str | None:
    """Call, start and finish one citizen at a window; returns the number served."""
    ticket = tx(engine, lambda s: windows.call_next(s, ctx, window))
    if ticket is None:
        return None
    clock.advance(minutes=1)
    tx(engine, lambda s: windows.start(s, ctx, window))
    clock.advance(minutes=minutes)
    tx(engine, lambda s: windows.finish(s, ctx, window, outcome))
    return ticket.number


def test_a_whole_day(engine: Engine, ctx: HallContext, clock: ManualClock) -> None:
    police_item = item_in(ctx, "exit_entry")
    property_item = item_in(ctx, "real_estate")

    # 08:40 — before opening: walk-ins are turned away with the opening time.
    clock.set(local(2026, 11, 23, 8, 40))
    with pytest.raises(HallError) as closed:
        issue(engine, ctx, item_code=police_item, id_number=id_number(1))
    assert closed.value.code == "closed" and "09:00" in closed.value.message

    # 09:00 — the morning rush: ten police tickets, four property tickets, one green-channel elder.
    clock.set(local(2026, 11, 23, 9, 0))
    police, prop = [], []
    for i in range(10):
        clock.advance(seconds=20)  # a ticket every 20 seconds at the kiosks
        police.append(issue(engine, ctx, item_code=police_item, id_number=id_number(10 + i)).number)
    for i in range(4):
        clock.advance(seconds=20)
        prop.append(issue(engine, ctx, item_code=property_item, id_number=id_number(30 + i)).number)
    elder = issue(
        engine,
        ctx,
        group="police",
        id_number=id_number(50),
        priority=Priority.green,
        priority_reason="80岁老人",
    )
    assert police[0] == "A001" and prop[0] == "C001" and elder.number == "L001"

    # The police window calls the green-channel ticket first, then the queue in order.
    assert serve(engine, ctx, clock, "w05", 6) == "L001"
    assert serve(engine, ctx, clock, "w05", 6) == "A001"

    # A no-show: A002 does not come; A003 is called; A002 rejoins a few places back.
    a002 = tx(engine, lambda s: windows.call_next(s, ctx, "w05"))
    assert a002 is not None and a002.number == "A002"
    clock.advance(minutes=2)
    tx(engine, lambda s: windows.no_show(s, ctx, "w05"))
    assert serve(engine, ctx, clock, "w05", 5) == "A003"
    tx(engine, lambda s: tickets.rejoin_ticket(s, ctx, a002.id))  # type: ignore[arg-type]

    # A transfer: the citizen at w06 turns out to need property registration; the ticket keeps its
    # number and its original place, so it goes ahead of later property tickets.
    moved = tx(engine, lambda s: windows.call_next(s, ctx, "w06"))
    assert moved is not None and moved.number == "A004"
    tx(engine, lambda s: windows.start(s, ctx, "w06"))
    tx(engine, lambda s: windows.transfer(s, ctx, "w06", to_group="property"))
    assert serve(engine, ctx, clock, "w10", 15) == "A004"
    assert serve(engine, ctx, clock, "w10", 15) == "C001"

    # 12:00–13:30 — lunch: the hall runs 午间不间断, so tickets are still issued and called.
    clock.set(local(2026, 11, 23, 12, 30))
    lunch = issue(engine, ctx, group="consult")
    assert lunch.number == "G001"
    assert serve(engine, ctx, clock, "w16", 3) == "G001"

    # 14:00 — property waits are long; the manager moves w06 from police to property, live.
    clock.set(local(2026, 11, 23, 14, 0))
    tx(engine, lambda s: windows.set_groups(s, ctx, "w06", ["property"]))
    assert serve(engine, ctx, clock, "w06", 12) == "C002"
    state = {g.group: g for g in tx(engine, lambda s: estimates.queue_state(s, ctx))}
    assert state["property"].waiting == 2
    assert state["property"].alert  # C003 has waited far beyond 40 minutes

    # The rejoined A002 went behind the three then waiting (A004, A005, A006); A004 has since moved
    # to property, so A002 comes right after A006 and before A007.
    served = [serve(engine, ctx, clock, "w05", 5) for _ in range(4)]
    assert served == ["A005", "A006", "A002", "A007"]

    # 17:59 — last ticket of the day; 18:00 — closed for new tickets, the queue is still served.
    clock.set(local(2026, 11, 23, 17, 59))
    last = issue(engine, ctx, group="police", id_number=id_number(70))
    clock.set(local(2026, 11, 23, 18, 0))
    with pytest.raises(HallError) as after:
        issue(engine, ctx, group="police", id_number=id_number(71))
    assert after.value.code == "closed" and "11月24日 09:00" in after.value.message
    while serve(engine, ctx, clock, "w05", 4) is not None:
        pass
    assert reload(engine, last.id).state == "done"  # type: ignore[arg-type]

    # Midnight: numbering starts again, yesterday's leftovers are expired, not called.
    clock.set(local(2026, 11, 24, 9, 0))
    assert tx(engine, lambda s: tickets.expire_stale(s, ctx)) == 2  # C003, C004 never called
    assert issue(engine, ctx, item_code=police_item, id_number=id_number(10)).number == "A001"
    assert issue(engine, ctx, group="property", id_number=id_number(80)).number == "C001"
    assert serve(engine, ctx, clock, "w10", 10) == "C001"


def test_estimates_learn_from_real_service_times(engine: Engine, ctx: HallContext, clock: ManualClock) -> None:
    group = ctx.group("consult")
    assert tx(engine, lambda s: estimates.mean_service_minutes(s, ctx, group)) == group.default_service_minutes
    for _ in range(3):
        issue(engine, ctx, group="consult")
    for _ in range(3):
        serve(engine, ctx, clock, "w16", 12, Outcome.consulted)
    assert tx(engine, lambda s: estimates.mean_service_minutes(s, ctx, group)) == pytest.approx(12)
    for _ in range(4):
        issue(engine, ctx, group="consult")
    state = {g.group: g for g in tx(engine, lambda s: estimates.queue_state(s, ctx))}["consult"]
    # consult is served by w16 alone and by w17 shared with assist: 1.5 windows.
    assert state.open_windows == 1.5
    assert state.estimated_wait_min == 32  # ceil(4 × 12 / 1.5)
    tx(engine, lambda s: windows.set_status(s, ctx, "w16", windows.WindowStatus.paused))
    tx(engine, lambda s: windows.set_status(s, ctx, "w17", windows.WindowStatus.closed))
    state = {g.group: g for g in tx(engine, lambda s: estimates.queue_state(s, ctx))}["consult"]
    assert state.estimated_wait_min is None  # nobody serves it: no promise is made
