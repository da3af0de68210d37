"""Visits: what happened at the window, and accepted cases (办件) with their serial number, promised date,
status and progress query."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, col, select

from hallcore.catalog.schema import Bundle, Item
from hallcore.errors import Conflict, HallError, NotFound
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
from hallserver.services import counters, people
from hallserver.services.context import HallContext

# Outcomes that create a case with a serial number; 当场办结 cases are completed at once.
CASE_OUTCOMES = (Outcome.accepted, Outcome.rongque, Outcome.completed)
DELIVERIES = ("窗口领取", "邮寄", "自助领取", "电子送达")
# Allowed case status moves (审查中 → 已办结 → 待领取 → 已领取, or 已邮寄).
CASE_FLOW: dict[str, tuple[str, ...]] = {
    CaseStatus.accepted: (CaseStatus.reviewing, CaseStatus.completed),
    CaseStatus.reviewing: (CaseStatus.completed,),
    CaseStatus.completed: (CaseStatus.ready, CaseStatus.posted, CaseStatus.collected),
    CaseStatus.ready: (CaseStatus.collected, CaseStatus.posted),
    CaseStatus.collected: (),
    CaseStatus.posted: (),
}


@dataclass(frozen=True)
class FinishDetails:
    """What staff enter when they finish: missing or owed materials, a deadline, a reason, delivery."""

    materials: tuple[str, ...] = ()
    deadline: date | None = None
    reason: str | None = None
    delivery: str | None = None
    item_code: str | None = None  # the item actually handled, when the ticket was taken for a queue only


@dataclass(frozen=True)
class Progress:
    """One case as the progress query shows it."""

    serial_no: str
    item_name: str
    status: str
    promised_date: date
    delivery: str
    accepted_at: datetime
    overdue: bool
    history: list[dict[str, str | None]] = field(default_factory=list)


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
    if outcome == Outcome.supplement:
        assert entry is not None
        _known_materials(entry, d.materials, "补正")
        deadline = d.deadline or ctx.calendar.add_working_days(today, ctx.profile.cases.supplement_days)
        return FinishDetails(d.materials, deadline, d.reason, d.delivery, d.item_code)
    if outcome == Outcome.rongque:
        if not isinstance(entry, Item) or entry.rongque is None:
            raise HallError("invalid", "该事项不适用容缺受理")
        allowed = {m.name for m in entry.materials if m.rongque}
        missing = set(d.materials) - allowed
        if not d.materials or missing:
            raise HallError("invalid", f"容缺材料须从可容缺的材料中选择：{'、'.join(sorted(allowed))}")
        deadline = d.deadline or ctx.calendar.add_working_days(today, entry.rongque.deadline_days)
        return FinishDetails(d.materials, deadline, d.reason, d.delivery, d.item_code)
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
    """统一业务流水号: implementation code + yyyymmdd + a 5-digit daily sequence, never reused."""
    seq = counters.increment(session, SerialCounter, item_code=item_code, day=day)
    return f"{item_code}{day:%Y%m%d}{seq:05d}"


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
    )
    session.add(case)
    session.flush()
    session.add(CaseEvent(serial_no=case.serial_no, at=now, status=case.status, note=outcome.value))
    return case


def advance_case(
    session: Session,
    ctx: HallContext,
    serial_no: str,
    status: CaseStatus,
    actor: str,
    note: str | None = None,
) -> ServiceCase:
    """Move a case along (审查中, 已办结, 待领取, 已领取, 已邮寄); other moves are refused."""
    case = session.get(ServiceCase, serial_no)
    if case is None:
        raise NotFound(f"没有流水号为 {serial_no} 的办件", serial_no=serial_no)
    if status not in CASE_FLOW[case.status]:
        allowed = "、".join(CASE_FLOW[case.status]) or "无"
        raise Conflict(
            "invalid_transition", f"办件当前为“{case.status}”，不能改为“{status.value}”（可改为：{allowed}）"
        )
    now = ctx.now()
    case.status, case.updated_at = status, now
    if status == CaseStatus.posted:
        case.delivery = "邮寄"
    session.add(case)
    session.add(CaseEvent(serial_no=serial_no, at=now, status=status, note=note, actor=actor))
    session.flush()
    return case


def progress(
    session: Session, ctx: HallContext, serial_no: str | None = None, id_number: str | None = None
) -> list[Progress]:
    """Cases by serial number or by the applicant's ID number (looked up through the keyed hash)."""
    if serial_no:
        cases = [c for c in [session.get(ServiceCase, serial_no.strip())] if c is not None]
    elif id_number:
        person = people.find(session, ctx, id_number)
        cases = list(
            session.exec(
                select(ServiceCase)
                .where(ServiceCase.person_id == (person.id if person else -1))
                .order_by(col(ServiceCase.accepted_at).desc())
            ).all()
        )
    else:
        raise HallError("invalid", "请输入办件流水号，或刷身份证查询")
    today = ctx.today()
    out = []
    for case in cases:
        events = session.exec(
            select(CaseEvent).where(CaseEvent.serial_no == case.serial_no).order_by(col(CaseEvent.id))
        ).all()
        out.append(
            Progress(
                serial_no=case.serial_no,
                item_name=ctx.entry_name(case.item_code),
                status=case.status,
                promised_date=case.promised_date,
                delivery=case.delivery,
                accepted_at=case.accepted_at.astimezone(ctx.calendar.zone),
                overdue=case.status in (CaseStatus.accepted, CaseStatus.reviewing) and today > case.promised_date,
                history=[
                    {"at": e.at.astimezone(ctx.calendar.zone).isoformat(), "status": e.status, "note": e.note}
                    for e in events
                ],
            )
        )
    return out
