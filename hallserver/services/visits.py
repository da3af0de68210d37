"""Visits: what happened at the window, and the cases (办件) it opens with their serial number and promised
date. A case's later life is services/cases.py; the progress query services/case_progress.py."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date

from sqlmodel import Session, col, select

from hallcore.catalog.schema import Bundle, Item
from hallcore.errors import HallError
from hallcore.serials import MAX_SEQUENCE, UNASSIGNED_HALL, SerialError, format_serial
from hallserver.models import (
    CaseEvent,
    CaseStatus,
    Outcome,
    Person,
    SerialCounter,
    ServiceCase,
    Ticket,
    Visit,
)
from hallserver.services import counters
from hallserver.services.context import HallContext

# Outcomes that create a case with a serial number; 当场办结 cases are completed at once.
CASE_OUTCOMES = (Outcome.accepted, Outcome.rongque, Outcome.completed)
DELIVERIES = ("窗口领取", "邮寄", "自助领取", "电子送达")


@dataclass(frozen=True)
class FinishDetails:
    """What staff enter when they finish: missing or owed materials, a deadline, a reason, delivery."""

    materials: tuple[str, ...] = ()
    deadline: date | None = None
    reason: str | None = None
    delivery: str | None = None
    item_code: str | None = None  # the item actually handled, when the ticket was taken for a queue only
    received: tuple[str, ...] | None = None  # materials handed in at the desk (None: not recorded)


def _entry(ctx: HallContext, code: str | None) -> Item | Bundle | None:
    if code is None:
        return None
    return ctx.catalog.items.get(code) or ctx.catalog.bundles.get(code)


def _check(ctx: HallContext, ticket: Ticket, outcome: Outcome, d: FinishDetails) -> FinishDetails:
    """Refuse incomplete outcomes; fill deadlines the catalog and rules define."""
    if d.item_code is not None:
        if _entry(ctx, d.item_code) is None:
            raise HallError("unknown_item", f"事项编码 {d.item_code} 不在事项目录中")
        ticket.item_code = d.item_code
    entry = _entry(ctx, ticket.item_code)
    today = ctx.today()
    if outcome in (*CASE_OUTCOMES, Outcome.supplement, Outcome.rongque) and entry is None:
        raise HallError("invalid", f"“{outcome.value}”须对应具体事项：请先为{ticket.number}号选择事项")
    if d.delivery is not None and d.delivery not in DELIVERIES:
        raise HallError("invalid", f"送达方式须为：{'、'.join(DELIVERIES)}")
    if outcome == Outcome.rejected and not (d.reason and d.reason.strip()):
        raise HallError("invalid", "不予受理须写明理由")
    if d.received and entry is not None:
        _known_materials(entry, d.received, "收到的材料")
    if outcome == Outcome.supplement:
        assert entry is not None
        _known_materials(entry, d.materials, "补正")
        deadline = d.deadline or ctx.calendar.add_working_days(today, ctx.profile.cases.supplement_days)
        return replace(d, deadline=deadline)
    if outcome == Outcome.rongque:
        if not isinstance(entry, Item) or entry.rongque is None:
            raise HallError("invalid", "该事项不适用容缺受理")
        allowed = {m.name for m in entry.materials if m.rongque}
        missing = set(d.materials) - allowed
        if not d.materials or missing:
            raise HallError("invalid", f"容缺材料须从可容缺的材料中选择：{'、'.join(sorted(allowed))}")
        deadline = d.deadline or ctx.calendar.add_working_days(today, entry.rongque.deadline_days)
        return replace(d, deadline=deadline)
    return d


def _known_materials(entry: Item | Bundle, chosen: tuple[str, ...], what: str) -> None:
    names = {m.name for m in entry.materials}
    if not chosen:
        raise HallError("invalid", f"{what}须列明全部缺少的材料（一次性告知）")
    unknown = [m for m in chosen if m not in names]
    if unknown:
        raise HallError("invalid", f"以下材料不在该事项的材料清单中：{'、'.join(unknown)}")


def record(
    session: Session,
    ctx: HallContext,
    ticket: Ticket,
    window_id: str,
    staff_role: str,
    outcome: Outcome,
    details: FinishDetails | None = None,
    note: str | None = None,
) -> Visit:
    """Write the visit of a ticket finishing (or transferred) at a window; opens a case when accepted."""
    d = _check(ctx, ticket, outcome, details or FinishDetails())
    now = ctx.now()
    window = next((w for w in ctx.profile.windows if w.id == window_id), None)
    staff_id = (window.staff.a if staff_role == "A" else window.staff.b) if window else None
    department = ctx.profile.staff_member(staff_id).department if staff_id else None
    person = (
        session.exec(select(Person).where(Person.id_hash == ticket.identity_hash)).first()
        if ticket.identity_hash
        else None
    )
    if outcome in CASE_OUTCOMES and person is None:
        raise HallError("identity_required", "受理办件须核验申请人身份：请为该群众实名取号或补录身份")
    visit = Visit(
        ticket_id=ticket.id,  # type: ignore[arg-type]
        ticket_number=ticket.number,
        service_date=ticket.service_date,
        person_id=person.id if person else None,
        group_code=ticket.group_code,
        item_code=ticket.item_code,
        window_id=window_id,
        staff_id=staff_id,
        staff_role=staff_role,
        department=department,
        arrived_at=ticket.issued_at,
        called_at=ticket.called_at,
        started_at=ticket.started_at,
        ended_at=now,
        wait_s=int((ticket.called_at - ticket.issued_at).total_seconds()) if ticket.called_at else 0,
        service_s=int((now - ticket.started_at).total_seconds()) if ticket.started_at else 0,
        outcome=outcome,
        materials=json.dumps(list(d.materials), ensure_ascii=False) if d.materials else None,
        received=json.dumps(list(d.received), ensure_ascii=False) if d.received is not None else None,
        deadline=d.deadline,
        reason=(d.reason or note or None),
    )
    session.add(visit)
    session.flush()
    if outcome in CASE_OUTCOMES:
        visit.serial_no = _open_case(session, ctx, visit, outcome, d.delivery or "窗口领取").serial_no
        session.add(visit)
        session.flush()
    return visit


def last_visit(session: Session, ticket_id: int) -> Visit | None:
    """The most recent visit of a ticket."""
    return session.exec(select(Visit).where(Visit.ticket_id == ticket_id).order_by(col(Visit.id).desc())).first()


def serial_number(session: Session, ctx: HallContext, item_code: str, day: date) -> str:
    """统一业务流水号: implementation code + yyyymmdd + hall code + a 5-digit daily sequence, never reused."""
    seq = counters.increment(session, SerialCounter, item_code=item_code, day=day)
    try:
        return format_serial(item_code, day, ctx.profile.hall.code or UNASSIGNED_HALL, seq)
    except SerialError as exc:
        raise HallError("numbers_exhausted" if seq > MAX_SEQUENCE else "invalid", str(exc)) from None


def _promised_days(entry: Item | Bundle) -> int:
    return entry.time_limit.promised_days if isinstance(entry, Item) else entry.promised_days


def _open_case(session: Session, ctx: HallContext, visit: Visit, outcome: Outcome, delivery: str) -> ServiceCase:
    entry = _entry(ctx, visit.item_code)
    assert entry is not None and visit.item_code is not None
    now = ctx.now()
    done = outcome == Outcome.completed
    case = ServiceCase(
        serial_no=serial_number(session, ctx, visit.item_code, now.date()),
        item_code=visit.item_code,
        visit_id=visit.id,  # type: ignore[arg-type]
        person_id=visit.person_id,
        accepted_at=now,
        promised_date=now.date() if done else ctx.calendar.add_working_days(now.date(), _promised_days(entry)),
        status=CaseStatus.completed if done else CaseStatus.accepted,
        delivery=delivery,
        updated_at=now,
        supplement_due=visit.deadline if outcome == Outcome.rongque else None,  # watched by case_deadlines
    )
    session.add(case)
    session.flush()
    session.add(CaseEvent(serial_no=case.serial_no, at=now, status=case.status, note=outcome.value))
    return case
