"""Four-digit ticket numbers on SQLite and PostgreSQL: after G999 comes G1000 (three digits stay three below
1000), calls and recent calls keep the issue order, a visit is rated by its four-digit number, and a series
that runs out after 9999 answers `numbers_exhausted`, not the real-name `limit_reached`."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from hallcore.commands import IssueTicket
from hallcore.errors import HallError
from hallserver.models import Outcome, TicketCounter, TicketState, Visit
from hallserver.services import evaluations, rating_proof, tickets, windows
from hallserver.services.context import HallContext
from hallserver.views.bus_state import recent_calls
from tests.integration.helpers import id_number, issue, item_in, reload, tx

W = "w16"  # 16号窗口 serves the anonymous consult group, prefix G


def set_counter(engine: Engine, ctx: HallContext, series: str, last: int) -> None:
    """As if `last` tickets of the series had been issued today (no need to issue them one by one)."""

    def put(s: Session) -> None:
        row = s.get(TicketCounter, (series, ctx.today())) or TicketCounter(series=series, service_date=ctx.today())
        row.last = last
        s.add(row)

    tx(engine, put)


def test_after_999_comes_1000_and_calls_keep_the_order(engine: Engine, ctx: HallContext) -> None:
    early = issue(engine, ctx)
    assert early.number == "G001"
    set_counter(engine, ctx, "G", 997)
    issued = [issue(engine, ctx) for _ in range(3)]
    assert [t.number for t in issued] == ["G998", "G999", "G1000"]
    assert [t.seq for t in issued] == [998, 999, 1000]

    called = []
    for _ in range(4):
        ticket = tx(engine, lambda s: windows.call_next(s, ctx, W))
        assert ticket is not None
        called.append(ticket.number)
        tx(engine, lambda s: windows.start(s, ctx, W))
        tx(engine, lambda s: windows.finish(s, ctx, W, Outcome.consulted))
    # The order of issue, never the order of the strings ("G1000" < "G998" as text).
    assert called == ["G001", "G998", "G999", "G1000"]
    calls = tx(engine, lambda s: recent_calls(s, ctx))
    assert [c.ticket for c in calls] == ["G1000", "G999", "G998", "G001"]
    assert calls[0].text == "请G1000号到16号窗口办理"
    assert calls[0].speech == "请G幺零零零号到十六号窗口办理"


def test_waiting_ahead_counts_across_999_and_1000(engine: Engine, ctx: HallContext) -> None:
    set_counter(engine, ctx, "G", 998)
    first = issue(engine, ctx)
    second = tx(engine, lambda s: tickets.issue_ticket(s, ctx, IssueTicket(group="consult")))
    assert (first.number, second.ticket.number) == ("G999", "G1000")
    assert second.waiting_ahead == 1


def test_a_visit_is_rated_by_its_four_digit_number(engine: Engine, ctx: HallContext) -> None:
    set_counter(engine, ctx, "G", 999)
    ticket = issue(engine, ctx)
    assert ticket.number == "G1000"
    tx(engine, lambda s: windows.call_next(s, ctx, W))
    tx(engine, lambda s: windows.start(s, ctx, W))
    tx(engine, lambda s: windows.finish(s, ctx, W, Outcome.consulted))
    assert reload(engine, ticket.id).state == TicketState.done  # type: ignore[arg-type]

    def rate(s: Session) -> tuple[int, str]:
        served = evaluations.find_visit(s, ctx, None, " g1000 ")
        proof = rating_proof.Proof(code=rating_proof.rating_code(ctx, served))  # a kiosk rating needs its proof
        evaluation, _ = evaluations.submit(s, ctx, level=5, channel="kiosk", ticket=" g1000 ", proof=proof)
        visit = s.get(Visit, evaluation.visit_id)
        assert visit is not None
        return evaluation.level_gb, visit.ticket_number

    level, number = tx(engine, rate)
    assert number == "G1000" and level == 1  # wire 5 = 非常满意 = GB level 1


def test_the_10000th_ticket_is_numbers_exhausted(engine: Engine, ctx: HallContext) -> None:
    set_counter(engine, ctx, "G", 9998)
    assert issue(engine, ctx).number == "G9999"
    for _ in range(2):  # the refusal rolls back: asking again is refused the same way
        with pytest.raises(HallError) as err:
            issue(engine, ctx)
        assert err.value.code == "numbers_exhausted"
        assert err.value.message == "今日综合咨询号码已发完，请明日再来或预约办理"
        assert err.value.data == {"group": "consult", "series": "G"}
    counter = tx(engine, lambda s: s.get(TicketCounter, ("G", ctx.today())))
    assert counter is not None and counter.last == 9999
    # Other series go on; the real-name limits keep their own code.
    assert issue(engine, ctx, item_code=item_in(ctx, "residence"), id_number=id_number(1)).number == "A001"
    with pytest.raises(HallError) as held:
        issue(engine, ctx, item_code=item_in(ctx, "residence"), id_number=id_number(1))
    assert held.value.code == "already_waiting"
