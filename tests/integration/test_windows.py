"""Window actions and the ticket state machine: every legal path works, every illegal one is refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from hallcore.clock import ManualClock
from hallcore.errors import HallError
from hallserver.models import Outcome, Ticket, TicketEvent, TicketState, WindowStatus
from hallserver.services import tickets, windows
from hallserver.services.context import HallContext
from hallserver.services.lifecycle import TRANSITIONS, transition
from tests.integration.helpers import id_number, issue, reload, tx

W = "w16"  # the consultation window: serves the anonymous consult group only


def call(engine: Engine, ctx: HallContext, window: str = W) -> Ticket | None:
    return tx(engine, lambda s: windows.call_next(s, ctx, window))


def act(engine: Engine, fn: Callable[[Session], Ticket]) -> Ticket:
    return tx(engine, fn)


# Legal ways to bring a fresh consult ticket into each state at window W.
PATHS: dict[TicketState, list[str]] = {
    TicketState.waiting: [],
    TicketState.called: ["call"],
    TicketState.serving: ["call", "start"],
    TicketState.suspended: ["call", "start", "suspend"],
    TicketState.no_show: ["call", "no_show"],
    TicketState.done: ["call", "start", "finish"],
    TicketState.cancelled: ["cancel"],
}


def drive(engine: Engine, ctx: HallContext, steps: list[str]) -> Ticket:
    ticket = issue(engine, ctx)
    for step in steps:
        if step == "call":
            assert call(engine, ctx) is not None
        elif step == "cancel":
            act(engine, lambda s: tickets.cancel_ticket(s, ctx, ticket.id))  # type: ignore[arg-type]
        elif step == "finish":
            act(engine, lambda s: windows.finish(s, ctx, W, Outcome.consulted))
        else:
            act(engine, lambda s, step=step: getattr(windows, step)(s, ctx, W))
    return reload(engine, ticket.id)  # type: ignore[arg-type]


@pytest.mark.parametrize("state", list(PATHS))
def test_paths_reach_each_state(engine: Engine, ctx: HallContext, state: TicketState) -> None:
    assert drive(engine, ctx, PATHS[state]).state == state


REFUSED = [(action, state) for action, (allowed, _) in TRANSITIONS.items() for state in PATHS if state not in allowed]


@pytest.mark.parametrize(("action", "state"), REFUSED, ids=[f"{a}-from-{s.value}" for a, s in REFUSED])
def test_every_illegal_transition_is_refused(engine: Engine, ctx: HallContext, action: str, state: TicketState) -> None:
    ticket = drive(engine, ctx, PATHS[state])

    def attempt(s: Session) -> None:
        fresh = s.get(Ticket, ticket.id)
        assert fresh is not None
        transition(s, fresh, action, ctx.now(), window_id=W)

    with pytest.raises(HallError) as err:
        tx(engine, attempt)
    assert err.value.code == "invalid_transition"
    assert err.value.data == {"ticket": ticket.number, "state": state.value, "action": action}
    assert reload(engine, ticket.id).state == state  # type: ignore[arg-type]


def test_finished_ticket_has_times_outcome_and_event_trail(
    engine: Engine, ctx: HallContext, clock: ManualClock
) -> None:
    ticket = issue(engine, ctx)
    clock.advance(minutes=4)
    call(engine, ctx)
    clock.advance(minutes=1)
    act(engine, lambda s: windows.start(s, ctx, W))
    clock.advance(minutes=6)
    act(engine, lambda s: windows.finish(s, ctx, W, Outcome.consulted, "政策咨询"))
    done = reload(engine, ticket.id)  # type: ignore[arg-type]
    assert done.state == "done" and done.outcome == "咨询" and done.note == "政策咨询"
    assert done.finished_at is not None and done.started_at is not None
    assert (done.finished_at - done.started_at).total_seconds() == 360
    events = tx(
        engine,
        lambda s: s.exec(
            select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
        ).all(),
    )  # type: ignore[arg-type]
    assert events == ["issue", "call", "start", "finish"]


def test_call_next_with_nobody_waiting(engine: Engine, ctx: HallContext) -> None:
    assert call(engine, ctx) is None


def test_window_busy_until_the_current_ticket_is_handled(engine: Engine, ctx: HallContext) -> None:
    issue(engine, ctx)
    issue(engine, ctx)
    call(engine, ctx)
    with pytest.raises(HallError) as err:
        call(engine, ctx)
    assert err.value.code == "window_busy" and "G001" in err.value.message
    act(engine, lambda s: windows.no_show(s, ctx, W))
    assert call(engine, ctx).number == "G002"  # type: ignore[union-attr]


def test_recall_counts_calls(engine: Engine, ctx: HallContext) -> None:
    issue(engine, ctx)
    call(engine, ctx)
    act(engine, lambda s: windows.recall(s, ctx, W))
    assert act(engine, lambda s: windows.recall(s, ctx, W)).call_count == 3


def test_actions_without_a_current_ticket(engine: Engine, ctx: HallContext) -> None:
    for action in ("recall", "no_show", "start", "suspend"):
        with pytest.raises(HallError) as err:
            act(engine, lambda s, a=action: getattr(windows, a)(s, ctx, W))
        assert err.value.code == "no_ticket"


def test_paused_and_closed_windows_do_not_call(engine: Engine, ctx: HallContext) -> None:
    issue(engine, ctx)
    view = tx(engine, lambda s: windows.set_status(s, ctx, W, WindowStatus.paused))
    assert view.status == "paused" and view.status_reason == "暂停服务"
    with pytest.raises(HallError) as err:
        call(engine, ctx)
    assert err.value.code == "window_not_open" and "暂停服务" in err.value.message
    tx(engine, lambda s: windows.set_status(s, ctx, W, WindowStatus.open))
    assert call(engine, ctx) is not None


def test_close_refused_while_serving(engine: Engine, ctx: HallContext) -> None:
    issue(engine, ctx)
    call(engine, ctx)
    with pytest.raises(HallError) as err:
        tx(engine, lambda s: windows.set_status(s, ctx, W, WindowStatus.closed, "下班"))
    assert err.value.code == "window_busy"
    act(engine, lambda s: windows.start(s, ctx, W))
    act(engine, lambda s: windows.finish(s, ctx, W, Outcome.consulted))
    view = tx(engine, lambda s: windows.set_status(s, ctx, W, WindowStatus.closed, "下班"))
    assert (view.status, view.status_reason) == ("closed", "下班")


def test_suspend_and_resume_at_the_same_window(engine: Engine, ctx: HallContext) -> None:
    first = issue(engine, ctx)
    issue(engine, ctx)
    call(engine, ctx)
    act(engine, lambda s: windows.start(s, ctx, W))
    act(engine, lambda s: windows.suspend(s, ctx, W, "复印材料"))
    assert tx(engine, lambda s: windows.view(s, ctx, W)).suspended == ["G001"]
    second = call(engine, ctx)  # the window serves the next citizen meanwhile
    assert second is not None and second.number == "G002"
    with pytest.raises(HallError) as err:
        act(engine, lambda s: windows.resume(s, ctx, W, first.id))  # type: ignore[arg-type]
    assert err.value.code == "window_busy"
    act(engine, lambda s: windows.start(s, ctx, W))
    act(engine, lambda s: windows.finish(s, ctx, W, Outcome.consulted))
    with pytest.raises(HallError) as other:
        act(engine, lambda s: windows.resume(s, ctx, "w17", first.id))  # type: ignore[arg-type]
    assert other.value.code == "forbidden"
    resumed = act(engine, lambda s: windows.resume(s, ctx, W, first.id))  # type: ignore[arg-type]
    assert resumed.state == "serving"


def test_transfer_validations(engine: Engine, ctx: HallContext) -> None:
    issue(engine, ctx)
    call(engine, ctx)
    cases = [
        ({}, "只能指定一个目标"),
        ({"to_group": "police", "to_window": "w05"}, "只能指定一个目标"),
        ({"to_group": "consult"}, "已在“综合咨询”队列中"),
        ({"to_group": "nosuch"}, "没有名为"),
        ({"to_window": W}, "不能转办给本窗口"),
        ({"to_window": "w99"}, "没有编号为 w99 的窗口"),
    ]
    for kwargs, message in cases:
        with pytest.raises(HallError, match=message):
            act(engine, lambda s, kw=kwargs: windows.transfer(s, ctx, W, **kw))
    tx(engine, lambda s: windows.set_status(s, ctx, "w05", WindowStatus.closed, "维修"))
    with pytest.raises(HallError) as err:
        act(engine, lambda s: windows.transfer(s, ctx, W, to_window="w05"))
    assert err.value.code == "window_not_open"


def test_finish_with_transfer_outcome_is_refused(engine: Engine, ctx: HallContext) -> None:
    issue(engine, ctx)
    call(engine, ctx)
    act(engine, lambda s: windows.start(s, ctx, W))
    with pytest.raises(HallError, match="转办请使用"):
        act(engine, lambda s: windows.finish(s, ctx, W, Outcome.transferred))


def test_reallocation_and_staff_swap(engine: Engine, ctx: HallContext) -> None:
    with pytest.raises(HallError, match="至少要办理一个队列"):
        tx(engine, lambda s: windows.set_groups(s, ctx, W, []))
    with pytest.raises(HallError) as err:
        tx(engine, lambda s: windows.set_groups(s, ctx, W, ["nosuch"]))
    assert err.value.code == "not_found"
    view = tx(engine, lambda s: windows.set_groups(s, ctx, W, ["police", "consult", "police"]))
    assert view.groups == ["consult", "police"]
    a_name = view.staff_display_name
    swapped = tx(engine, lambda s: windows.set_staff_role(s, ctx, W, "B"))
    assert swapped.staff_role == "B" and swapped.staff_display_name != a_name


def test_rejoin_after_no_show_within_the_window(engine: Engine, ctx: HallContext, clock: ManualClock) -> None:
    t = issue(engine, ctx, group="police", id_number=id_number(1))
    tx(engine, lambda s: windows.call_next(s, ctx, "w05"))
    act(engine, lambda s: windows.no_show(s, ctx, "w05"))
    clock.advance(minutes=ctx.profile.tickets.no_show_rejoin_minutes + 1)
    with pytest.raises(HallError) as err:
        act(engine, lambda s: tickets.rejoin_ticket(s, ctx, t.id))  # type: ignore[arg-type]
    assert err.value.code == "rejoin_expired"
    # A no-show is no longer held, so the citizen may take a new ticket.
    assert issue(engine, ctx, group="police", id_number=id_number(1)).number == "A002"


def test_rejoin_goes_behind_the_next_few(engine: Engine, ctx: HallContext, clock: ManualClock) -> None:
    late = issue(engine, ctx)
    call(engine, ctx)
    act(engine, lambda s: windows.no_show(s, ctx, W))
    others = []
    for _ in range(5):
        clock.advance(minutes=1)
        others.append(issue(engine, ctx).number)
    clock.advance(minutes=10)
    act(engine, lambda s: tickets.rejoin_ticket(s, ctx, late.id))  # type: ignore[arg-type]
    order = []
    for _ in range(6):
        ticket = call(engine, ctx)
        assert ticket is not None
        order.append(ticket.number)
        act(engine, lambda s: windows.no_show(s, ctx, W))
    positions = ctx.profile.tickets.rejoin_after_positions
    assert order == [*others[:positions], late.number, *others[positions:]]


def test_stale_tickets_expire_the_next_day(engine: Engine, ctx: HallContext, clock: ManualClock) -> None:
    issue(engine, ctx)
    waiting = issue(engine, ctx)
    call(engine, ctx)
    clock.advance(days=1)
    assert tx(engine, lambda s: tickets.expire_stale(s, ctx)) == 2
    assert reload(engine, waiting.id).state == "cancelled"  # type: ignore[arg-type]
    assert call(engine, ctx) is None  # yesterday's queue is gone, the window is free
