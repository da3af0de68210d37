"""The department's back-office case desk: its cases (masked applicants), one case with its history and the
moves it allows next. A department sees only its own cases; hall managers see all."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, col, select

from hallcore.catalog.schema import Item
from hallcore.errors import NotFound
from hallserver.models import CaseEvent, CaseStatus, Person, ServiceCase
from hallserver.services.cases import (
    ACTION_STATUS,
    FLOW,
    CaseAction,
    belongs_to,
    department_of,
    get_case,
    item_codes_of,
    on_commitment,
    owes,
)
from hallserver.services.context import HallContext

# What the desk lists by default: cases someone still has to act on.
WORKING = (
    CaseStatus.accepted,
    CaseStatus.reviewing,
    CaseStatus.suspended,
    CaseStatus.completed,
    CaseStatus.committed,
    CaseStatus.ready,
)
DESK_LIMIT = 200


@dataclass(frozen=True)
class DeskRow:
    """One case in the desk's list."""

    serial_no: str
    item_name: str
    department: str
    status: str
    accepted_at: datetime
    promised_date: date
    overdue: bool
    applicant: str | None
    supplement_due: date | None


@dataclass(frozen=True)
class DeskCase:
    """One case opened on the desk: everything staff need to decide, and the moves allowed next."""

    row: DeskRow
    delivery: str
    result: str | None
    reason: str | None
    commitment: bool  # the item admits 告知承诺制
    actions: list[str]
    history: list[dict[str, str | None]] = field(default_factory=list)


def _row(ctx: HallContext, case: ServiceCase, person: Person | None) -> DeskRow:
    today = ctx.today()
    return DeskRow(
        serial_no=case.serial_no,
        item_name=ctx.entry_name(case.item_code),
        department=department_of(ctx, case),
        status=case.status,
        accepted_at=case.accepted_at.astimezone(ctx.calendar.zone),
        promised_date=case.promised_date,
        overdue=case.status in (CaseStatus.accepted, CaseStatus.reviewing) and today > case.promised_date,
        applicant=person.masked_name if person else None,
        supplement_due=case.supplement_due if case.supplied_at is None else None,
    )


def listing(
    session: Session, ctx: HallContext, department: str | None, status: str | None = None, serial: str | None = None
) -> list[DeskRow]:
    """The department's cases: by default those still to act on, oldest promise first."""
    query = select(ServiceCase, Person).join(Person, col(Person.id) == ServiceCase.person_id, isouter=True)
    if department is not None:
        query = query.where(col(ServiceCase.item_code).in_(item_codes_of(ctx, department)))
    if serial:
        query = query.where(col(ServiceCase.serial_no).startswith(serial.strip()))
    elif status:
        query = query.where(ServiceCase.status == status)
    else:
        query = query.where(col(ServiceCase.status).in_(WORKING))
    rows = session.exec(
        query.order_by(col(ServiceCase.promised_date), col(ServiceCase.serial_no)).limit(DESK_LIMIT)
    ).all()
    return [_row(ctx, case, person) for case, person in rows]


def open_case(session: Session, ctx: HallContext, serial_no: str, department: str | None) -> DeskCase:
    """One case of the department, with its history and allowed next moves."""
    case = get_case(session, serial_no)
    if department is not None and not belongs_to(ctx, case, department):
        raise NotFound(f"没有流水号为 {serial_no} 的本部门办件", serial_no=serial_no)
    person = session.get(Person, case.person_id) if case.person_id else None
    events = session.exec(select(CaseEvent).where(CaseEvent.serial_no == case.serial_no).order_by(col(CaseEvent.id)))
    item = ctx.catalog.items.get(case.item_code)
    commitment = isinstance(item, Item) and item.gaozhi_chengnuo is not None
    return DeskCase(
        row=_row(ctx, case, person),
        delivery=case.delivery,
        result=case.result,
        reason=case.reason,
        commitment=commitment,
        actions=allowed_actions(case, commitment),
        history=[
            {
                "at": e.at.astimezone(ctx.calendar.zone).isoformat(),
                "status": e.status,
                "note": e.note,
                "actor": e.actor,
            }
            for e in events.all()
        ],
    )


def allowed_actions(case: ServiceCase, commitment: bool) -> list[str]:
    """The action codes the case's state allows (告知承诺 only for items that admit it)."""
    targets = FLOW.get(case.status, ())
    actions = [a.value for a, s in ACTION_STATUS.items() if s in targets]
    if not commitment:
        actions = [a for a in actions if a != CaseAction.committed]
    if CaseAction.revoked.value in actions and not on_commitment(case):
        actions.remove(CaseAction.revoked.value)
    if owes(case):
        actions.append(CaseAction.supplied.value)
    return actions
