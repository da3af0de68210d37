"""Issuing tickets on SQLite and PostgreSQL: numbering, series, limits, hours and errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, update

from hallcore.clock import ManualClock
from hallcore.commands import IssueTicket
from hallcore.errors import HallError
from hallserver.models import Priority, TicketCounter
from hallserver.services import tickets
from hallserver.services.context import HallContext
from tests.conftest import local
from tests.integration.helpers import command, id_number, issue, item_in, tx


def test_numbers_run_per_group_prefix(engine: Engine, ctx: HallContext) -> None:
    police = item_in(ctx, "residence")
    social = item_in(ctx, "social_security")
    numbers = [
        issue(engine, ctx, item_code=police, id_number=id_number(1)).number,
        issue(engine, ctx, item_code=police, id_number=id_number(2)).number,
        issue(engine, ctx, item_code=social, id_number=id_number(3)).number,
        issue(engine, ctx).number,
    ]
    assert numbers == ["A001", "A002", "B001", "G001"]


def test_issue_reports_people_ahead_and_estimate(engine: Engine, ctx: HallContext) -> None:
    for seed in range(3):
        issue(engine, ctx, group="police", id_number=id_number(seed))
    issued = tx(
        engine,
        lambda s: tickets.issue_ticket(s, ctx, command(group="police", id_number=id_number(9))),
    )
    assert issued.waiting_ahead == 3
    # 3 ahead × 8 min default service / police capacity (w05, w06 whole; w01–04, w19, w20 shared).
    assert issued.estimated_wait_min is not None and 3 <= issued.estimated_wait_min <= 24
    assert issued.group.name == "公安服务"


def test_priority_series_are_recognisable(engine: Engine, ctx: HallContext, clock: ManualClock) -> None:
    green = issue(
        engine,
        ctx,
        group="police",
        id_number=id_number(1),
        priority=Priority.green,
        priority_reason="70岁以上老年人",
    )
    slot = clock.now() + timedelta(minutes=10)
    appt = issue(
        engine,
        ctx,
        group="police",
        id_number=id_number(2),
        priority=Priority.appointment,
        appointment_at=slot,
        channel="appointment",
    )
    assert (green.number, green.priority) == ("L001", "green")
    assert (appt.number, appt.priority) == ("Y001", "appointment")


def test_green_channel_needs_a_reason(engine: Engine, ctx: HallContext) -> None:
    with pytest.raises(HallError, match="绿色通道取号须注明原因"):
        issue(engine, ctx, group="police", id_number=id_number(1), priority=Priority.green)


def test_appointment_check_in_window(engine: Engine, ctx: HallContext, clock: ManualClock) -> None:
    with pytest.raises(HallError) as early:
        issue(
            engine,
            ctx,
            group="police",
            id_number=id_number(1),
            priority=Priority.appointment,
            appointment_at=clock.now() + timedelta(minutes=45),
        )
    assert early.value.code == "too_early" and "09:15" in early.value.message
    late = issue(
        engine,
        ctx,
        group="police",
        id_number=id_number(2),
        priority=Priority.appointment,
        appointment_at=clock.now() - timedelta(minutes=16),
    )
    assert late.priority == "normal" and late.number == "A001"  # late arrivals queue as walk-ins


def test_numbers_reset_at_local_midnight(engine: Engine, ctx: HallContext, clock: ManualClock) -> None:
    clock.set(local(2026, 11, 23, 17, 59))
    assert issue(engine, ctx).number == "G001"
    assert issue(engine, ctx).number == "G002"
    clock.set(local(2026, 11, 24, 9, 0))
    tomorrow = issue(engine, ctx)
    assert tomorrow.number == "G001"
    assert str(tomorrow.service_date) == "2026-11-24"


def test_counter_is_never_reused_after_a_refusal(engine: Engine, ctx: HallContext) -> None:
    person = id_number(5)
    assert issue(engine, ctx, group="police", id_number=person).number == "A001"
    with pytest.raises(HallError):
        issue(engine, ctx, group="police", id_number=person)  # refused: already waiting
    assert issue(engine, ctx, group="police", id_number=id_number(6)).number == "A002"


def test_one_waiting_ticket_per_person_per_group(engine: Engine, ctx: HallContext) -> None:
    person = id_number(7)
    first = issue(engine, ctx, group="police", id_number=person, name="张小三")
    assert first.masked_name == "张*三"
    with pytest.raises(HallError) as err:
        issue(engine, ctx, group="police", id_number=person)
    assert err.value.code == "already_waiting"
    assert err.value.data["ticket"] == "A001"
    # Another group is fine.
    assert issue(engine, ctx, group="social", id_number=person).number == "B001"


def test_daily_cap_per_person(engine: Engine, ctx: HallContext) -> None:
    person = id_number(8)
    cap = ctx.profile.tickets.daily_cap_per_person
    groups = ["police", "social", "property", "business", "livelihood", "yijianshi"]
    for group in groups[:cap]:
        issue(engine, ctx, group=group, id_number=person)
    with pytest.raises(HallError) as err:
        issue(engine, ctx, group=groups[cap], id_number=person)
    assert err.value.code == "limit_reached"


def test_identity_required_except_for_consultation(engine: Engine, ctx: HallContext) -> None:
    with pytest.raises(HallError) as err:
        issue(engine, ctx, item_code=item_in(ctx, "marriage"))
    assert err.value.code == "identity_required"
    assert issue(engine, ctx, group="consult").identity_hash is None


def test_identity_is_hashed_never_stored(engine: Engine, ctx: HallContext) -> None:
    person = id_number(11)
    ticket = issue(engine, ctx, group="police", id_number=person, name="李四")
    assert ticket.identity_hash and person not in ticket.identity_hash
    assert ticket.masked_name == "李*"


def test_closed_hall_says_when_it_reopens(engine: Engine, ctx: HallContext, clock: ManualClock) -> None:
    clock.set(local(2026, 11, 23, 18, 0))
    with pytest.raises(HallError) as err:
        issue(engine, ctx)
    assert err.value.code == "closed"
    assert "11月24日 09:00" in err.value.message
    assert err.value.data["reopens_at"].startswith("2026-11-24T09:00:00+08:00")


def test_unknown_item_and_group(engine: Engine, ctx: HallContext) -> None:
    with pytest.raises(HallError) as err:
        issue(engine, ctx, item_code="NOSUCHCODE")
    assert err.value.code == "unknown_item"
    with pytest.raises(HallError) as err:
        issue(engine, ctx, group="nosuch")
    assert err.value.code == "not_found"
    with pytest.raises(ValidationError, match="item_code or group is required"):  # the command itself refuses
        IssueTicket()


def test_item_and_mismatched_group(engine: Engine, ctx: HallContext) -> None:
    with pytest.raises(HallError, match="与所选队列不符"):
        issue(engine, ctx, item_code=item_in(ctx, "residence"), group="social", id_number=id_number(1))


def test_series_goes_on_after_999_and_sells_out_after_9999(engine: Engine, ctx: HallContext) -> None:
    issue(engine, ctx)
    tx(engine, lambda s: s.execute(update(TicketCounter).where(TicketCounter.series == "G").values(last=998)))
    assert [issue(engine, ctx).number for _ in range(2)] == ["G999", "G1000"]
    tx(engine, lambda s: s.execute(update(TicketCounter).where(TicketCounter.series == "G").values(last=9998)))
    assert issue(engine, ctx).number == "G9999"
    with pytest.raises(HallError) as err:
        issue(engine, ctx)
    assert err.value.code == "numbers_exhausted"
