"""A case's life after the window, through the services on the injected clock, on SQLite and PostgreSQL:
容缺 and 补正 deadlines counted in working days (reminder, then what the catalog says happens), 告知承诺制,
办结 with delivery, early warning, the overdue list and on-time figures, driven by the housekeeping run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from hallcore.catalog.schema import Item
from hallcore.clock import ManualClock
from hallcore.errors import HallError
from hallserver.housekeeping import Housekeeper
from hallserver.models import Outcome, ServiceCase, SupplementWatch, Visit
from hallserver.presentation import case_alerts
from hallserver.services import case_deadlines, case_hooks, cases, windows
from hallserver.services.case_hooks import CaseNotice
from hallserver.services.cases import CaseUpdate
from hallserver.services.context import HallContext
from hallserver.services.visits import FinishDetails
from tests.cases.conftest import ITEM
from tests.conftest import local
from tests.integration.helpers import id_number, issue, tx


@pytest.fixture
def notices() -> Iterator[list[CaseNotice]]:
    """Every notice the case hooks emit during the test."""
    seen: list[CaseNotice] = []
    remove = case_hooks.register(lambda _s, _c, notice: seen.append(notice))
    yield seen
    remove()


def _window_for(ctx: HallContext, code: str) -> str:
    group = ctx.group_for_entry(code).code
    return next(w.id for w in ctx.profile.windows if group in w.groups)


def serve(engine: Engine, ctx: HallContext, seed: int, outcome: Outcome, code: str = ITEM, **details: object) -> Visit:
    """A real-name ticket for the item, called, started and finished at a window serving it; its visit."""
    issue(engine, ctx, item_code=code, id_number=id_number(seed), name="张小三")
    window = _window_for(ctx, code)

    def finish(s: object) -> Visit:
        windows.call_next(s, ctx, window)  # type: ignore[arg-type]
        windows.start(s, ctx, window)  # type: ignore[arg-type]
        ticket = windows.finish(s, ctx, window, outcome, details=FinishDetails(**details))  # type: ignore[arg-type]
        visit = s.exec(select(Visit).where(Visit.ticket_id == ticket.id)).one()  # type: ignore[attr-defined]
        s.expunge(visit)  # type: ignore[attr-defined]
        return visit

    return tx(engine, finish)


def case_of(engine: Engine, serial_no: str) -> ServiceCase:
    def get(s: object) -> ServiceCase:
        case = cases.get_case(s, serial_no)  # type: ignore[arg-type]
        s.expunge(case)  # type: ignore[attr-defined]
        return case

    return tx(engine, get)


def update(engine: Engine, ctx: HallContext, serial_no: str, **fields: object) -> ServiceCase:
    tx(engine, lambda s: cases.apply_update(s, ctx, cases.get_case(s, serial_no), CaseUpdate(**fields), "s05"))
    return case_of(engine, serial_no)


def sweep(engine: Engine, ctx: HallContext) -> case_deadlines.Sweep:
    return Housekeeper(ctx, engine, 60).sweep_cases()


def _rongque(ctx: HallContext, code: str) -> tuple[str, ...]:
    item = ctx.catalog.items[code]
    return tuple(m.name for m in item.materials if m.rongque)


def _other_rongque_item(ctx: HallContext) -> str:
    """A 容缺 item of another department with no lapse rule of its own: the hall's default applies."""
    return next(
        code
        for code, item in ctx.catalog.items.items()
        if item.rongque and item.on_deadline_lapse is None and not item.department.startswith("市公安局")
    )


def test_rongque_deadline_reminds_then_lapses_as_the_catalog_says(
    engine: Engine, ctx: HallContext, clock: ManualClock, notices: list[CaseNotice]
) -> None:
    clock.set(local(2026, 11, 23, 10, 0))  # Monday
    mine = serve(engine, ctx, 1, Outcome.rongque, materials=_rongque(ctx, ITEM))
    other_code = _other_rongque_item(ctx)
    other = serve(engine, ctx, 2, Outcome.rongque, code=other_code, materials=_rongque(ctx, other_code))
    due = ctx.calendar.add_working_days(date(2026, 11, 23), ctx.catalog.items[ITEM].rongque.deadline_days)  # type: ignore[union-attr]
    assert mine.serial_no and other.serial_no and case_of(engine, mine.serial_no).supplement_due == due

    assert sweep(engine, ctx).reminded == 0  # far from the deadline: nothing yet
    # The working day before the deadline (remind_days = 1): one reminder, not repeated.
    day_before = next(
        d
        for d in (date.fromordinal(due.toordinal() - k) for k in range(1, 6))
        if ctx.calendar.holidays.is_working_day(d)
    )
    clock.set(local(day_before.year, day_before.month, day_before.day, 9, 30))
    assert sweep(engine, ctx).reminded >= 1
    assert sweep(engine, ctx).reminded == 0
    near = [n for n in notices if n.kind == "deadline_near" and n.serial_no == mine.serial_no]
    assert len(near) == 1 and near[0].due == due and near[0].person_id is not None

    # The day after the deadline: 居住证申领 says 中止办理; the other item follows the hall's 视为撤回.
    clock.set(local(2026, 12, 31, 9, 30))
    assert sweep(engine, ctx).lapsed == 2
    stopped, withdrawn = case_of(engine, mine.serial_no), case_of(engine, other.serial_no)
    assert stopped.status == "中止办理" and "逾期未补齐" in (stopped.reason or "")
    assert withdrawn.status == "视为撤回"
    passed = {n.serial_no: n.outcome for n in notices if n.kind == "deadline_passed"}
    assert passed == {mine.serial_no: "中止办理", other.serial_no: "视为撤回"}
    assert sweep(engine, ctx).lapsed == 0  # handled once

    # The materials come in: the stopped case goes back to review; a withdrawn case cannot move.
    assert update(engine, ctx, mine.serial_no, status="supplied").status == "审查中"
    with pytest.raises(HallError) as refused:
        update(engine, ctx, other.serial_no, status="reviewing")
    assert refused.value.code == "invalid_transition" and "视为撤回" in refused.value.message


def test_supplement_notice_deadline_lapses_unless_the_applicant_comes_back(
    engine: Engine, ctx: HallContext, clock: ManualClock, notices: list[CaseNotice]
) -> None:
    clock.set(local(2026, 11, 23, 10, 0))
    missing = (ctx.catalog.items[ITEM].materials[0].name,)
    gone = serve(engine, ctx, 3, Outcome.supplement, materials=missing)
    back = serve(engine, ctx, 4, Outcome.supplement, materials=missing)
    assert gone.deadline == ctx.calendar.add_working_days(date(2026, 11, 23), ctx.profile.cases.supplement_days)
    sweep(engine, ctx)
    clock.advance(days=1)
    accepted = serve(engine, ctx, 4, Outcome.accepted)  # the second applicant returns with everything
    assert accepted.serial_no
    clock.set(local(2026, 12, 10, 9, 30))
    done = sweep(engine, ctx)
    assert done.lapsed == 1 and done.supplied == 1

    def watches(s: object) -> dict[int, tuple[str, str | None]]:
        rows = s.exec(select(SupplementWatch)).all()  # type: ignore[attr-defined]
        return {w.visit_id: (w.state, w.lapse_outcome) for w in rows}

    assert tx(engine, watches) == {gone.id: ("lapsed", "中止办理"), back.id: ("supplied", None)}
    (passed,) = [n for n in notices if n.kind == "deadline_passed"]
    assert passed.visit_id == gone.id and passed.serial_no is None and passed.outcome == "中止办理"


def test_commitment_decision_and_delivery(
    engine: Engine, ctx: HallContext, clock: ManualClock, notices: list[CaseNotice]
) -> None:
    clock.set(local(2026, 11, 23, 10, 0))
    serial = serve(engine, ctx, 5, Outcome.accepted).serial_no
    assert serial
    case = update(engine, ctx, serial, status="committed", result="居住证", delivery="post")
    assert case.status == "告知承诺准予" and case.delivery == "邮寄" and case.decided_at is not None
    verify = ctx.catalog.items[ITEM].gaozhi_chengnuo
    assert verify is not None  # the promised proof is due within the item's 核查 period
    assert case.supplement_due == ctx.calendar.add_working_days(date(2026, 11, 23), verify.verify_days)
    assert [n.kind for n in notices] == ["result_ready"]
    case = update(engine, ctx, serial, status="posted", tracking_no="SF1234567890")
    assert case.status == "已邮寄"
    # The proof stays owed through the hand-over: reminded before the 核查 deadline; past it nothing happens by
    # itself (the department orders rectification, then revokes).
    before = ctx.calendar.add_working_days(date(2026, 11, 23), verify.verify_days - 1)
    clock.set(local(before.year, before.month, before.day, 10, 0))
    assert sweep(engine, ctx).reminded == 1
    clock.set(local(2027, 1, 20, 10, 0))
    assert sweep(engine, ctx).lapsed == 0
    assert case_of(engine, serial).status == "已邮寄"
    case = update(engine, ctx, serial, status="revoked", reason="申请人未在核查期限内补交居住证明，撤销居住证")
    assert case.status == "已撤销" and "核查期限" in (case.reason or "")

    # An item outside the 告知承诺制 catalog cannot be approved on commitment; an ordinary result is not revoked.
    plain = next(
        c
        for c, i in ctx.catalog.items.items()
        if i.gaozhi_chengnuo is None and not i.time_limit.on_the_spot and i.department.startswith("市公安局")
    )
    other = serve(engine, ctx, 6, Outcome.accepted, code=plain).serial_no
    assert other
    with pytest.raises(HallError) as refused:
        update(engine, ctx, other, status="committed", result="证件")
    assert refused.value.code == "not_applicable" and "告知承诺" in refused.value.message
    update(engine, ctx, other, status="completed", result="证件", delivery="window")
    update(engine, ctx, other, status="ready")
    assert update(engine, ctx, other, status="collected").status == "已领取"
    with pytest.raises(HallError) as final:
        update(engine, ctx, other, status="revoked", reason="承诺未履行")
    assert final.value.code == "invalid_transition"


def test_early_warning_overdue_list_and_on_time_figures(
    engine: Engine, ctx: HallContext, clock: ManualClock, notices: list[CaseNotice]
) -> None:
    clock.set(local(2026, 11, 23, 10, 0))
    late = serve(engine, ctx, 7, Outcome.accepted).serial_no
    quick = serve(engine, ctx, 8, Outcome.accepted).serial_no
    slow = serve(engine, ctx, 9, Outcome.accepted).serial_no
    assert late and quick and slow
    promised = case_of(engine, late).promised_date
    assert promised == ctx.calendar.add_working_days(
        date(2026, 11, 23), ctx.catalog.items[ITEM].time_limit.promised_days
    )
    update(engine, ctx, quick, status="completed", result="居住证")

    # Two working days before the promise: warned once, on the desk's and the floor's 临期 list.
    two_before = promised.toordinal() - 2
    while not ctx.calendar.holidays.is_working_day(date.fromordinal(two_before)):
        two_before -= 1
    d = date.fromordinal(two_before)
    clock.set(local(d.year, d.month, d.day, 9, 30))
    assert sweep(engine, ctx).warned == 2
    assert sweep(engine, ctx).warned == 0
    assert sorted(n.serial_no or "" for n in notices if n.kind == "promise_near") == sorted([late, slow])
    listed = tx(engine, lambda s: case_deadlines.watchlist(s, ctx, "市公安局"))
    assert {r.serial_no for r in listed.due_soon} >= {late, slow} and not listed.overdue
    assert listed.due_soon[0].applicant == "张*三"
    assert tx(engine, lambda s: case_deadlines.watchlist(s, ctx, "市医疗保障局")).due_soon == []

    # Past the promise: `late` is overdue; `slow` is decided a day late.
    after = ctx.calendar.add_working_days(promised, 1)
    clock.set(local(after.year, after.month, after.day, 9, 30))
    update(engine, ctx, slow, status="completed", result="居住证")
    listed = tx(engine, lambda s: case_deadlines.watchlist(s, ctx, None))
    assert [r.serial_no for r in listed.overdue if r.serial_no in (late, slow, quick)] == [late]
    assert listed.overdue[0].days_late >= 1 and listed.overdue_total == 1
    (alert,) = tx(engine, lambda s: case_alerts.gather(s, ctx))  # the floor: one overdue case, named
    assert alert.kind == "case_overdue" and alert.level == "critical" and late in alert.detail
    figures = tx(engine, lambda s: case_deadlines.on_time_figures(s, ctx, promised, promised, "市公安局"))
    assert (figures.due, figures.on_time, figures.late, figures.open_overdue) == (3, 1, 1, 1)
    assert figures.rate == pytest.approx(1 / 3, abs=1e-4)
    none = tx(engine, lambda s: case_deadlines.on_time_figures(s, ctx, date(2026, 1, 1), date(2026, 1, 31)))
    assert none.due == 0 and none.rate is None


def test_item_rule_beats_the_hall_default(ctx: HallContext) -> None:
    assert case_deadlines.lapse_outcome(ctx, ITEM).value == "中止办理"
    assert (
        case_deadlines.lapse_outcome(ctx, _other_rongque_item(ctx)).value == ctx.profile.cases.on_deadline_lapse.value
    )
    assert isinstance(ctx.catalog.items[ITEM], Item) and ctx.catalog.items[ITEM].gaozhi_chengnuo is not None


def test_reminders_and_results_reach_the_notification_outbox(
    engine: Engine, ctx: HallContext, clock: ManualClock
) -> None:
    from hallserver.models import OutboxMessage
    from hallserver.services.notify import contacts

    clock.set(local(2026, 11, 23, 10, 0))
    visit = serve(engine, ctx, 11, Outcome.rongque, materials=_rongque(ctx, ITEM))
    assert visit.id and visit.serial_no
    tx(engine, lambda s: contacts.for_visit(s, ctx, visit.id, "13800138000", True, "sms", "s05"))  # type: ignore[arg-type]
    due = case_of(engine, visit.serial_no).supplement_due
    assert due is not None
    day_before = next(
        d
        for d in (date.fromordinal(due.toordinal() - k) for k in range(1, 6))
        if ctx.calendar.holidays.is_working_day(d)
    )
    clock.set(local(day_before.year, day_before.month, day_before.day, 9, 30))
    sweep(engine, ctx)
    update(engine, ctx, visit.serial_no, status="supplied")
    update(engine, ctx, visit.serial_no, status="denied", reason="经审查不符合居住证申领条件")

    def templates(s: object) -> list[str]:
        return [m.template for m in s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()]  # type: ignore[attr-defined, arg-type]

    queued = tx(engine, templates)
    assert queued == ["rongque_deadline", "case_result"]
    sweep(engine, ctx)  # nothing is queued twice
    assert tx(engine, templates) == queued
