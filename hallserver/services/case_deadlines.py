"""Deadlines after the window: 补正 notices and 容缺 cases (reminders, and what happens when they pass),
early warning before a promised date, the overdue list, and on-time figures (000 §55 电子监察, 预警).

Run by the server's housekeeping with the hall's clock; working days on the hall calendar."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from firmware_config.hall import LapseOutcome
from hallcore.catalog.schema import Item
from hallserver.models import (
    OPEN_CASE_STATES,
    CaseEvent,
    CaseStatus,
    Outcome,
    Person,
    ServiceCase,
    SupplementWatch,
    Visit,
)
from hallserver.services import case_hooks
from hallserver.services.cases import COMMITMENT_MARK, item_codes_of, on_commitment
from hallserver.services.context import HallContext

SYSTEM = "system"
# A 补正 notice older than this is not picked up any more (its deadline is long gone).
WATCH_HORIZON = timedelta(days=120)
LAPSE_STATUS = {
    LapseOutcome.withdrawn: CaseStatus.withdrawn,
    LapseOutcome.denied: CaseStatus.denied,
    LapseOutcome.suspended: CaseStatus.suspended,
}
WATCH_LIMIT = 200  # rows per list; the totals count every case
LAPSE_REASON = "申请人逾期未补齐材料"
_CLOCK_STOPPED = (CaseStatus.suspended, CaseStatus.withdrawn)
_SUPPLIED_OUTCOMES = (Outcome.accepted, Outcome.rongque, Outcome.completed)


@dataclass
class Sweep:
    """What one run did."""

    reminded: int = 0
    lapsed: int = 0
    warned: int = 0
    supplied: int = 0


def lapse_outcome(ctx: HallContext, item_code: str | None) -> LapseOutcome:
    """The item's own rule, else the hall's default (hall.yaml cases.on_deadline_lapse)."""
    item = ctx.catalog.items.get(item_code or "")
    if isinstance(item, Item) and item.on_deadline_lapse is not None:
        return item.on_deadline_lapse
    return ctx.profile.cases.on_deadline_lapse


def _near(ctx: HallContext, today: date, due: date, days: int) -> bool:
    return due >= today and ctx.calendar.add_working_days(today, days) >= due


def sweep(session: Session, ctx: HallContext) -> Sweep:
    """One pass: watch new 补正 notices, remind and lapse deadlines, warn before promised dates."""
    out = Sweep()
    today = ctx.today()
    _watch_new_notices(session, ctx, today)
    _notices(session, ctx, today, out)
    _rongque_cases(session, ctx, today, out)
    _early_warning(session, ctx, today, out)
    session.flush()
    return out


def _watch_new_notices(session: Session, ctx: HallContext, today: date) -> None:
    """Start watching 补正 notices; one whose deadline had already passed (a notice from before case life
    existed, picked up by the first run) is closed as lapsed quietly: no message long after the fact."""
    watched = select(SupplementWatch.visit_id)
    rows = session.exec(
        select(col(Visit.id), col(Visit.deadline), col(Visit.item_code)).where(
            Visit.outcome == Outcome.supplement,
            col(Visit.deadline).is_not(None),
            col(Visit.deadline) >= today - WATCH_HORIZON,
            col(Visit.id).not_in(watched),
        )
    ).all()
    now = ctx.now()
    watches = [
        {"visit_id": visit_id, "due": due, "state": "open", "lapse_outcome": None, "closed_at": None,
         "reminded_on": None}
        if due >= today
        else {"visit_id": visit_id, "due": due, "state": "lapsed", "closed_at": now, "reminded_on": None,
              "lapse_outcome": lapse_outcome(ctx, item_code).value}
        for visit_id, due, item_code in rows
        if due is not None
    ]  # fmt: skip
    if watches:  # one statement: the first run may pick up months of notices
        session.execute(sa.insert(SupplementWatch), watches)


def _notices(session: Session, ctx: HallContext, today: date, out: Sweep) -> None:
    rows = session.exec(
        select(SupplementWatch, Visit)
        .join(Visit, col(Visit.id) == SupplementWatch.visit_id)
        .where(SupplementWatch.state == "open")
    ).all()
    returned = _returns(session, [v for _, v in rows])
    for watch, visit in rows:
        if returned.get((visit.person_id, visit.item_code), 0) > (visit.id or 0):
            watch.state, watch.closed_at = "supplied", ctx.now()
            out.supplied += 1
        elif today > watch.due:
            outcome = lapse_outcome(ctx, visit.item_code)
            watch.state, watch.lapse_outcome, watch.closed_at = "lapsed", outcome.value, ctx.now()
            case_hooks.notice_deadline(session, ctx, "deadline_passed", visit, outcome.value)
            out.lapsed += 1
        elif watch.reminded_on is None and _near(ctx, today, watch.due, ctx.profile.cases.remind_days):
            watch.reminded_on = today
            case_hooks.notice_deadline(session, ctx, "deadline_near", visit)
            out.reminded += 1
        session.add(watch)


def _returns(session: Session, notices: list[Visit]) -> dict[tuple[int | None, str | None], int]:
    """For the applicants of open notices: their latest accepted visit per item (one query): the applicant
    came back with the materials when it is later than the notice."""
    people = {v.person_id for v in notices if v.person_id is not None}
    if not people:
        return {}
    rows = session.exec(
        select(Visit.person_id, Visit.item_code, func.max(Visit.id))
        .where(col(Visit.person_id).in_(people), col(Visit.outcome).in_(_SUPPLIED_OUTCOMES))
        .group_by(col(Visit.person_id), col(Visit.item_code))
    ).all()
    return {(person, item): last or 0 for person, item, last in rows}


def _rongque_cases(session: Session, ctx: HallContext, today: date, out: Sweep) -> None:
    """Owed materials: 容缺 cases (reminded, then lapsed as the catalog says) and approvals on commitment
    (reminded before the 核查 deadline)."""
    rows = session.exec(
        select(ServiceCase).where(
            sa.or_(
                col(ServiceCase.status).in_(OPEN_CASE_STATES),
                sa.and_(
                    col(ServiceCase.result).startswith(COMMITMENT_MARK), col(ServiceCase.status) != CaseStatus.revoked
                ),
            ),
            col(ServiceCase.supplement_due).is_not(None),
            col(ServiceCase.supplied_at).is_(None),
        )
    ).all()
    for case in rows:
        assert case.supplement_due is not None
        if today > case.supplement_due and on_commitment(case):
            continue  # 告知承诺 核查 overdue: the department orders rectification, then may revoke (002 §28)
        if today > case.supplement_due:
            outcome = lapse(session, ctx, case)
            case_hooks.case_deadline(session, ctx, "deadline_passed", case, outcome.value)
            out.lapsed += 1
        elif case.reminded_on is None and _near(ctx, today, case.supplement_due, ctx.profile.cases.remind_days):
            case.reminded_on = today
            session.add(case)
            case_hooks.case_deadline(session, ctx, "deadline_near", case)
            out.reminded += 1


def lapse(session: Session, ctx: HallContext, case: ServiceCase) -> LapseOutcome:
    """A 容缺 case whose owed materials did not come: 视为撤回, 不予批准 or 中止办理 as the catalog says."""
    outcome = lapse_outcome(ctx, case.item_code)
    now = ctx.now()
    status = LAPSE_STATUS[outcome]
    reason = f"{LAPSE_REASON}（期限{case.supplement_due:%Y年%m月%d日}）"
    case.status, case.updated_at, case.reason = status, now, reason
    if status == CaseStatus.denied:
        case.decided_at = now
    session.add(case)
    session.add(CaseEvent(serial_no=case.serial_no, at=now, status=status, note=f"理由：{reason}", actor=SYSTEM))
    return outcome


def _early_warning(session: Session, ctx: HallContext, today: date, out: Sweep) -> None:
    horizon = ctx.calendar.add_working_days(today, ctx.profile.cases.warn_days)
    rows = session.exec(
        select(ServiceCase).where(
            col(ServiceCase.status).in_(OPEN_CASE_STATES),
            col(ServiceCase.warned_on).is_(None),
            col(ServiceCase.promised_date) >= today,
            col(ServiceCase.promised_date) <= horizon,
        )
    ).all()
    for case in rows:
        case.warned_on = today
        session.add(case)
        case_hooks.promise_near(session, ctx, case)
        out.warned += 1


@dataclass(frozen=True)
class WatchRow:
    """One open case on the warning or overdue list (masked applicant only)."""

    serial_no: str
    item_name: str
    department: str
    status: str
    accepted_at: datetime
    promised_date: date
    days_late: int
    applicant: str | None
    supplement_due: date | None


@dataclass
class Watchlist:
    """Open cases past their promised date, and those due within the warning days (the first `limit` of
    each, oldest promise first), with the totals."""

    today: date
    overdue: list[WatchRow] = field(default_factory=list)
    due_soon: list[WatchRow] = field(default_factory=list)
    overdue_total: int = 0
    due_soon_total: int = 0


def _scoped(query: Any, ctx: HallContext, department: str | None) -> Any:
    """Only the department's cases (by its items' codes), or all for None."""
    if department is None:
        return query
    return query.where(col(ServiceCase.item_code).in_(item_codes_of(ctx, department)))


def watchlist(session: Session, ctx: HallContext, department: str | None = None, limit: int = WATCH_LIMIT) -> Watchlist:
    """The floor's and the desk's 超期 and 预警 lists; a department sees only its own cases."""
    today = ctx.today()
    horizon = ctx.calendar.add_working_days(today, ctx.profile.cases.warn_days)
    promised = col(ServiceCase.promised_date)
    is_open = (col(ServiceCase.status).in_(OPEN_CASE_STATES), promised <= horizon)
    total, late = session.exec(
        _scoped(
            select(func.count(), func.coalesce(func.sum(sa.case((promised < today, 1), else_=0)), 0)).where(*is_open),
            ctx,
            department,
        )
    ).one()
    out = Watchlist(today, overdue_total=int(late), due_soon_total=int(total) - int(late))
    columns = (
        col(ServiceCase.serial_no),
        col(ServiceCase.item_code),
        col(ServiceCase.status),
        col(ServiceCase.accepted_at),
        col(ServiceCase.promised_date),
        col(ServiceCase.supplement_due),
        col(ServiceCase.supplied_at),
        col(Person.masked_name),
    )
    for bucket, when in ((out.overdue, promised < today), (out.due_soon, promised >= today)):
        query: Any = (
            sa.select(*columns)
            .join(Person, col(Person.id) == ServiceCase.person_id, isouter=True)
            .where(*is_open, when)
            .order_by(promised, col(ServiceCase.serial_no))
            .limit(limit)
        )
        bucket.extend(_watch_row(ctx, today, *row) for row in session.exec(_scoped(query, ctx, department)).all())
    return out


def _watch_row(
    ctx: HallContext,
    today: date,
    serial_no: str,
    item_code: str,
    status: str,
    accepted_at: datetime,
    promised: date,
    supplement_due: date | None,
    supplied_at: datetime | None,
    applicant: str | None,
) -> WatchRow:
    entry = ctx.catalog.items.get(item_code) or ctx.catalog.bundles.get(item_code)
    return WatchRow(
        serial_no=serial_no,
        item_name=entry.name if entry else item_code,
        department=entry.department if entry else "",
        status=status,
        accepted_at=accepted_at.astimezone(ctx.calendar.zone),
        promised_date=promised,
        days_late=max(0, (today - promised).days),
        applicant=applicant,
        supplement_due=supplement_due if supplied_at is None else None,
    )


@dataclass(frozen=True)
class OnTimeFigures:
    """Cases due in a period: decided by the promised date, decided late, and still open past it."""

    start: date
    end: date
    due: int
    on_time: int
    late: int
    open_overdue: int

    @property
    def rate(self) -> float | None:
        """按时办结率: on time ÷ (on time + late + open and overdue); None with nothing due yet."""
        counted = self.on_time + self.late + self.open_overdue
        return round(self.on_time / counted, 4) if counted else None


def on_time_figures(
    session: Session, ctx: HallContext, start: date, end: date, department: str | None = None
) -> OnTimeFigures:
    """On-time figures of the cases whose promised date falls in [start, end] (for the 季考评/年总评 reports)."""
    today = ctx.today()
    rows = session.exec(
        _scoped(
            select(
                col(ServiceCase.status),
                col(ServiceCase.promised_date),
                col(ServiceCase.decided_at),
                col(ServiceCase.updated_at),
            ).where(col(ServiceCase.promised_date) >= start, col(ServiceCase.promised_date) <= end),
            ctx,
            department,
        )
    ).all()
    on_time = late = open_overdue = due = 0
    zone = ctx.calendar.zone
    for status, promised, decided_at, updated_at in rows:
        if status in _CLOCK_STOPPED:  # 中止 stops the clock; 视为撤回 was never decided
            continue
        due += 1
        if status in OPEN_CASE_STATES:
            open_overdue += promised < today
            continue
        decided = decided_at or updated_at
        if decided.astimezone(zone).date() <= promised:
            on_time += 1
        else:
            late += 1
    return OnTimeFigures(start, end, due, on_time, late, open_overdue)
