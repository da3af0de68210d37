"""The complaints and 办不成事 ledger (000 §35–37, 002 §53): intake from every channel, classification in or
out of the hall's remit (answer within 5 working days, or pass to the competent department within 2),
assignment, reply (a written reply on request), closure with the citizen's feedback, the overdue list and
the month's figures. Every step is recorded with time and actor. Pure: the clock is ctx.now()."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from hallcore.complaints import (
    FEEDBACK_LABELS,
    IN_REMIT_DAYS,
    KIND_LABELS,
    TRANSFER_DAYS,
    ComplaintKind,
    ComplaintReplyDocument,
    ComplaintSubmit,
    Feedback,
)
from hallcore.contacts import mask_phone, normalize_phone, phone_hash
from hallcore.errors import Conflict, HallError, NotFound
from hallcore.identity import mask_id_numbers, mask_name
from hallserver.models import Complaint, ComplaintEvent, ComplaintState
from hallserver.models.complaints import COMPLAINT_STATE_LABELS, OPEN_COMPLAINT_STATES
from hallserver.services.context import HallContext

CHANNELS = ("window", "kiosk", "phone")
_MOBILE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone


@dataclass(frozen=True)
class Submitted:
    """What the citizen is told: the reference and the date an answer is due."""

    complaint: Complaint

    @property
    def message(self) -> str:
        c = self.complaint
        how = "书面答复" if c.written_reply else "答复"
        kind = KIND_LABELS[ComplaintKind(c.kind)]
        return f"已受理您的{kind}，编号 {c.reference}，我们将在 {c.due_date:%Y年%m月%d日} 前{how}"

    def view(self) -> dict[str, Any]:
        return {
            "reference": self.complaint.reference,
            "due": self.complaint.due_date.isoformat(),
            "message": self.message,
        }


def _masked_text(text: str) -> str:
    """The citizen's words with any ID number or mobile number inside masked (kept as evidence, read by staff)."""
    return _MOBILE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), mask_id_numbers(text))


def _reference(ctx: HallContext) -> str:
    return "TS" + ctx.today().strftime("%y%m%d") + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(5))


def _step(session: Session, ctx: HallContext, c: Complaint, actor: str, action: str, note: str | None = None) -> None:
    assert c.id is not None
    session.add(ComplaintEvent(complaint_id=c.id, at=ctx.now(), actor=actor, action=action, note=note))


def submit(session: Session, ctx: HallContext, cmd: ComplaintSubmit, *, channel: str, by: str) -> Submitted:
    """Record a complaint as received; the answer is due in 5 working days until it is classified."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    if cmd.item_code and cmd.item_code not in ctx.catalog.items and cmd.item_code not in ctx.catalog.bundles:
        raise HallError("unknown_item", f"事项编码 {cmd.item_code} 不在本大厅的事项目录中")
    if len(cmd.content.strip()) < 5:
        raise HallError("invalid", "请至少用5个字说明反映的问题")
    now = ctx.now()
    c = Complaint(
        reference=_reference(ctx),
        kind=cmd.kind,
        channel=channel,
        received_at=now,
        received_by=by,
        content=_masked_text(cmd.content),
        item_code=cmd.item_code or None,
        written_reply=cmd.written_reply,
        due_date=ctx.calendar.add_working_days(now.date(), IN_REMIT_DAYS),
    )
    if cmd.phone:
        number = normalize_phone(cmd.phone)
        c.phone_hash = phone_hash(ctx.identity_key, number)
        c.phone_masked = mask_phone(number)
        c.key_id, c.phone_cipher = ctx.keyring.encrypt(number, aad=c.phone_hash)
    if cmd.name:
        name = cmd.name.strip()
        c.name_masked = mask_name(name)
        c.key_id, c.name_cipher = ctx.keyring.encrypt(name, aad=f"complaint-name:{c.reference}")
    if cmd.written_reply and not (cmd.name and cmd.phone):
        raise HallError("invalid", "需要书面答复的，请留下姓名和手机号码以便送达")
    session.add(c)
    session.flush()
    _step(session, ctx, c, by, "received", KIND_LABELS[ComplaintKind(cmd.kind)])
    return Submitted(c)


def get(session: Session, reference: str) -> Complaint:
    """A complaint by its reference, or not_found."""
    c = session.exec(select(Complaint).where(Complaint.reference == reference.strip().upper())).first()
    if c is None:
        raise NotFound(f"没有编号为 {reference} 的投诉或办不成事记录")
    return c


def _expect(c: Complaint, *states: ComplaintState) -> None:
    if c.state not in states:
        label = COMPLAINT_STATE_LABELS[ComplaintState(c.state)]
        raise Conflict("wrong_state", f"编号 {c.reference} 当前为“{label}”，不能进行此操作")


def classify(
    session: Session, ctx: HallContext, c: Complaint, in_remit: bool, by: str, department: str | None = None
) -> Complaint:
    """In the hall's remit: answer within 5 working days of receipt. Outside: name the competent department;
    it must be passed on within 2 working days of receipt."""
    _expect(c, ComplaintState.received, ComplaintState.classified)
    received = c.received_at.astimezone(ctx.calendar.zone).date()
    if in_remit:
        c.department, c.due_date = None, ctx.calendar.add_working_days(received, IN_REMIT_DAYS)
    else:
        if not department or not department.strip():
            raise HallError("invalid", "不属于本大厅职责范围的，请填写移交的主管部门")
        c.department = department.strip()
        c.due_date = ctx.calendar.add_working_days(received, TRANSFER_DAYS)
    c.in_remit, c.state = in_remit, ComplaintState.classified
    session.add(c)
    _step(session, ctx, c, by, "classified", "属于本大厅职责" if in_remit else f"移交{c.department}")
    return c


def assign(session: Session, ctx: HallContext, c: Complaint, assignee: str, by: str) -> Complaint:
    """Give it to a handler in the hall, or (outside the remit) record that it was passed to the department."""
    _expect(c, ComplaintState.classified, ComplaintState.assigned)
    if not assignee or not assignee.strip():
        raise HallError("invalid", "请填写承办人或承办部门")
    c.assignee, c.assigned_at, c.state = assignee.strip(), ctx.now(), ComplaintState.assigned
    session.add(c)
    _step(session, ctx, c, by, "transferred" if c.in_remit is False else "assigned", c.assignee)
    return c


def answer(session: Session, ctx: HallContext, c: Complaint, reply: str, by: str) -> Complaint:
    """Record the answer given to the citizen."""
    _expect(c, ComplaintState.assigned)
    text = (reply or "").strip()
    if len(text) < 5:
        raise HallError("invalid", "答复内容不能少于5个字")
    c.reply, c.answered_at, c.answered_by, c.state = text, ctx.now(), by, ComplaintState.answered
    session.add(c)
    _step(session, ctx, c, by, "answered")
    return c


def close(
    session: Session, ctx: HallContext, c: Complaint, feedback: Feedback, by: str, comment: str | None = None
) -> Complaint:
    """Close with the citizen's feedback (满意/基本满意/不满意)."""
    _expect(c, ComplaintState.answered)
    c.feedback, c.feedback_comment = feedback.value, (comment or "").strip()[:500] or None
    c.closed_at, c.state = ctx.now(), ComplaintState.closed
    session.add(c)
    _step(session, ctx, c, by, "closed", FEEDBACK_LABELS[feedback])
    return c


# --- deadlines ---


def _deadline_met_at(c: Complaint) -> datetime | None:
    """When the deadline's step was done: the transfer (outside the remit) or the answer."""
    return c.assigned_at if c.in_remit is False else c.answered_at


def is_overdue(ctx: HallContext, c: Complaint, today: date | None = None) -> bool:
    """The deadline's step is not done and its day has passed."""
    done = _deadline_met_at(c)
    return done is None and c.state != ComplaintState.closed and (today or ctx.today()) > c.due_date


def on_time(ctx: HallContext, c: Complaint) -> bool | None:
    """Whether the deadline's step was done by its day; None while it is not done."""
    done = _deadline_met_at(c)
    return None if done is None else done.astimezone(ctx.calendar.zone).date() <= c.due_date


def overdue(session: Session, ctx: HallContext) -> list[Complaint]:
    """Open complaints past their day, oldest first."""
    rows = session.exec(
        select(Complaint)
        .where(col(Complaint.state).in_([s.value for s in OPEN_COMPLAINT_STATES]), Complaint.due_date < ctx.today())
        .order_by(col(Complaint.due_date))
    ).all()
    return [c for c in rows if is_overdue(ctx, c)]


def ledger(session: Session, state: str | None = None, limit: int = 200) -> list[Complaint]:
    """The newest complaints, optionally in one state."""
    query = select(Complaint).order_by(col(Complaint.received_at).desc()).limit(limit)
    if state:
        query = query.where(Complaint.state == state)
    return list(session.exec(query).all())


def steps(session: Session, c: Complaint) -> list[ComplaintEvent]:
    """Every step taken, in order."""
    return list(
        session.exec(select(ComplaintEvent).where(ComplaintEvent.complaint_id == c.id).order_by(col(ComplaintEvent.id)))
    )


def view(ctx: HallContext, c: Complaint) -> dict[str, Any]:
    """What staff see: masked name and phone only."""
    zone = ctx.calendar.zone
    return {
        "reference": c.reference,
        "kind": c.kind,
        "kind_label": KIND_LABELS[ComplaintKind(c.kind)],
        "channel": c.channel,
        "received_at": c.received_at.astimezone(zone).isoformat(),
        "received_by": c.received_by,
        "content": c.content,
        "item_code": c.item_code,
        "item_name": ctx.entry_name(c.item_code) if c.item_code else None,
        "masked_name": c.name_masked,
        "masked_phone": c.phone_masked,
        "written_reply": c.written_reply,
        "state": c.state,
        "state_label": COMPLAINT_STATE_LABELS[ComplaintState(c.state)],
        "in_remit": c.in_remit,
        "department": c.department,
        "due": c.due_date.isoformat(),
        "overdue": is_overdue(ctx, c),
        "assignee": c.assignee,
        "reply": c.reply,
        "answered_at": c.answered_at.astimezone(zone).isoformat() if c.answered_at else None,
        "feedback": c.feedback,
        "feedback_label": FEEDBACK_LABELS[Feedback(c.feedback)] if c.feedback else None,
        "feedback_comment": c.feedback_comment,
    }


def written_reply(ctx: HallContext, c: Complaint) -> ComplaintReplyDocument:
    """The 书面答复 to print (A4), once answered."""
    if c.reply is None or c.answered_at is None:
        raise Conflict("not_answered", f"编号 {c.reference} 尚未答复，没有书面答复")
    zone = ctx.calendar.zone
    return ComplaintReplyDocument(
        hall_name=ctx.profile.hall.name,
        reference=c.reference,
        kind_label=KIND_LABELS[ComplaintKind(c.kind)],
        masked_name=c.name_masked,
        received_at=c.received_at.astimezone(zone),
        content=c.content,
        reply=c.reply,
        answered_at=c.answered_at.astimezone(zone),
        department=c.department,
    )


# --- reports ---


def month_figures(session: Session, ctx: HallContext, start: date, end: date) -> dict[str, int]:
    """Complaints received from start to end (inclusive, local dates): how many (by kind), in/out of remit,
    answered, on time (the deadline's step — the answer, or the transfer when outside the remit — done by its
    day), overdue (that step late, or still undone past its day), closed, and the feedback given."""
    zone = ctx.calendar.zone
    lo = datetime.combine(start, datetime.min.time(), zone)
    hi = datetime.combine(end, datetime.max.time(), zone)
    rows = session.exec(
        select(Complaint).where(col(Complaint.received_at) >= lo, col(Complaint.received_at) <= hi)
    ).all()
    out = {
        "received": len(rows),
        "complaints": sum(c.kind == ComplaintKind.complaint for c in rows),
        "cannot_do": sum(c.kind == ComplaintKind.cannot_do for c in rows),
        "in_remit": sum(c.in_remit is True for c in rows),
        "out_of_remit": sum(c.in_remit is False for c in rows),
        "answered": sum(c.answered_at is not None for c in rows),
        "on_time": sum(on_time(ctx, c) is True for c in rows),
        "overdue": sum(is_overdue(ctx, c) or on_time(ctx, c) is False for c in rows),
        "closed": sum(c.state == ComplaintState.closed for c in rows),
    }
    for fb in Feedback:
        out[fb.value] = sum(c.feedback == fb.value for c in rows)
    return out
