"""好差评: one rating per visit, bad ratings open a rectification case, whose follow-up rating closes the loop.
The rater's identity is stored for the follow-up call only and never leaves through a staff view."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from hallcore import ratings
from hallcore.errors import Conflict, HallError, NotFound
from hallserver.models import Evaluation, Rectification, Visit
from hallserver.services import people, rating_proof
from hallserver.services.context import HallContext
from hallserver.services.rating_proof import Proof

# The one channel whose rater is vouched for by the device itself: an evaluator is bound to its window (its
# broker account) and rates the visit that window just ended. Every other rating needs a proof of the visit
# (rating_proof) or an adapter's `vouched` (the SMS reply from the number the invitation went to).
DEVICE_CHANNELS = ("evaluator",)

# open → called_back → rectified → confirmed (follow-up rating) → closed
RECTIFICATION_FLOW = {
    "callback": ("open", "called_back"),
    "rectify": ("called_back", "rectified"),
    "followup": ("rectified", "confirmed"),
    "close": ("confirmed", "closed"),
}
STATE_LABELS = {
    "open": "待回访",
    "called_back": "已回访",
    "rectified": "已整改",
    "confirmed": "已确认",
    "closed": "已办结",
}


@dataclass(frozen=True)
class EvaluationView:
    """What staff and managers may see of a rating: never who gave it."""

    id: int
    visit_id: int
    kind: str
    level: int  # bus level, 5 = 非常满意
    level_gb: int
    label: str
    is_bad: bool
    indicators: dict[str, str]
    comment: str | None
    channel: str
    created_at: datetime


def view(e: Evaluation, ctx: HallContext) -> EvaluationView:
    """The staff-safe view of a rating."""
    indicators = json.loads(e.indicators) if e.indicators else {}
    return EvaluationView(
        id=e.id or 0,
        visit_id=e.visit_id,
        kind=e.kind,
        level=ratings.gb_to_wire(e.level_gb),
        level_gb=e.level_gb,
        label=ratings.label(e.level_gb),
        is_bad=e.is_bad,
        indicators={ratings.INDICATORS[k]: ratings.label(v) for k, v in indicators.items()},
        comment=e.comment,
        channel=e.channel,
        created_at=e.created_at.astimezone(ctx.calendar.zone),
    )


def find_visit(session: Session, ctx: HallContext, visit_id: int | None, ticket: str | None) -> Visit:
    """The visit a rating names: by id, or today's latest visit of a ticket number."""
    return _visit(session, ctx, visit_id, ticket)


def _visit(session: Session, ctx: HallContext, visit_id: int | None, ticket: str | None) -> Visit:
    if visit_id is not None:
        visit = session.get(Visit, visit_id)
    elif ticket:
        visit = session.exec(
            select(Visit)
            .where(Visit.ticket_number == ticket.strip().upper(), Visit.service_date == ctx.today())
            .order_by(col(Visit.id).desc())
        ).first()
    else:
        raise HallError("invalid", "请指明要评价的办事记录（visit_id 或号码）")
    if visit is None:
        raise NotFound("没有找到这次办事记录，无法评价")
    return visit


def submit(
    session: Session,
    ctx: HallContext,
    level: int,
    channel: str,
    visit_id: int | None = None,
    ticket: str | None = None,
    indicators: dict[str, int] | None = None,
    comment: str | None = None,
    rater_id_number: str | None = None,
    proof: Proof | None = None,
    vouched: bool = False,
) -> tuple[Evaluation, Rectification | None]:
    """Rate a visit once (一次一评); a 差评 opens a rectification owned by the serving department. The rater
    must prove the visit was theirs (rating_proof.check) unless rating on the window's evaluator or vouched
    for by the adapter; a proof, whenever given, is checked."""
    if channel not in ratings.CHANNELS:
        raise HallError("invalid", f"未知的评价渠道 {channel}")
    code = ratings.wire_to_gb(level)
    visit = _visit(session, ctx, visit_id, ticket)
    if proof is not None or not (vouched or channel in DEVICE_CHANNELS):
        rating_proof.check(session, ctx, visit, proof)
        rater_id_number = rater_id_number or (proof.id_number if proof else None)
    rater = people.remember(session, ctx, rater_id_number) if rater_id_number else None
    now = ctx.now()
    evaluation = Evaluation(
        visit_id=visit.id,  # type: ignore[arg-type]
        kind="initial",
        level_gb=code,
        is_bad=ratings.is_bad(code),
        indicators=json.dumps(ratings.indicators_to_gb(indicators or {})) if indicators else None,
        comment=(comment or "").strip()[:500] or None,
        channel=channel,
        rater_person_id=rater.id if rater else visit.person_id,
        created_at=now,
    )
    _insert_once(session, evaluation, "这次办事已经评价过了，感谢您的反馈")
    rectification = _open_rectification(session, ctx, visit, evaluation) if evaluation.is_bad else None
    visit.rating_gb, visit.rect_state = code, "open" if rectification else None
    session.add(visit)
    return evaluation, rectification


def _insert_once(session: Session, evaluation: Evaluation, message: str) -> None:
    try:
        with session.begin_nested():
            session.add(evaluation)
            session.flush()
    except IntegrityError:
        raise Conflict("already_rated", message) from None


def _deadline(ctx: HallContext, opened: date) -> date:
    rules = ctx.profile.cases
    if rules.rectification_working_days:
        return ctx.calendar.add_working_days(opened, rules.rectification_days)
    return opened + timedelta(days=rules.rectification_days)


def _open_rectification(session: Session, ctx: HallContext, visit: Visit, evaluation: Evaluation) -> Rectification:
    now = ctx.now()
    case = Rectification(
        evaluation_id=evaluation.id,  # type: ignore[arg-type]
        visit_id=visit.id,  # type: ignore[arg-type]
        department=visit.department,
        window_id=visit.window_id,
        staff_id=visit.staff_id,
        state="open",
        opened_at=now,
        deadline=_deadline(ctx, now.date()),
    )
    session.add(case)
    session.flush()
    return case


def _step(session: Session, ctx: HallContext, rectification_id: int, step: str) -> Rectification:
    case = session.get(Rectification, rectification_id)
    if case is None:
        raise NotFound(f"没有编号为 {rectification_id} 的整改记录")
    source, target = RECTIFICATION_FLOW[step]
    if case.state != source:
        raise Conflict(
            "invalid_transition",
            f"整改记录当前为“{STATE_LABELS[case.state]}”，须为“{STATE_LABELS[source]}”才能进行此操作",
            state=case.state,
        )
    case.state = target
    session.add(case)
    return case


def callback(session: Session, ctx: HallContext, rectification_id: int, actor: str, note: str) -> Rectification:
    """Record the call-back to the citizen (回访)."""
    if not note.strip():
        raise HallError("invalid", "请记录回访情况")
    case = _step(session, ctx, rectification_id, "callback")
    case.callback_at, case.callback_by, case.callback_note = ctx.now(), actor, note.strip()[:500]
    return case


def rectify(
    session: Session, ctx: HallContext, rectification_id: int, actor: str, measures: str, result: str
) -> Rectification:
    """Record the measures taken and their result (整改措施与结果)."""
    if not measures.strip() or not result.strip():
        raise HallError("invalid", "请填写整改措施和整改结果")
    case = _step(session, ctx, rectification_id, "rectify")
    now = ctx.now()
    case.measures, case.result, case.rectified_at = measures.strip()[:1000], result.strip()[:1000], now
    visit = session.get(Visit, case.visit_id)
    if visit is not None:
        visit.rect_state = "on_time" if now.astimezone(ctx.calendar.zone).date() <= case.deadline else "late"
        session.add(visit)
    return case


def followup(
    session: Session,
    ctx: HallContext,
    rectification_id: int,
    level: int,
    channel: str,
    comment: str | None = None,
    proof: Proof | None = None,
    vouched: bool = False,
) -> Evaluation:
    """The citizen's follow-up rating after rectification: the one second rating a visit may get, proven
    like the first (rating code or ID card of the visit; no age limit) unless the adapter vouches for it."""
    case = session.get(Rectification, rectification_id)
    if case is not None and (proof is not None or not vouched):
        visit = session.get(Visit, case.visit_id)
        assert visit is not None
        rating_proof.check(session, ctx, visit, proof, any_age=True)
    case = _step(session, ctx, rectification_id, "followup")
    first = session.get(Evaluation, case.evaluation_id)
    assert first is not None
    code = ratings.wire_to_gb(level)
    evaluation = Evaluation(
        visit_id=case.visit_id,
        kind="followup",
        level_gb=code,
        is_bad=ratings.is_bad(code),
        comment=(comment or "").strip()[:500] or None,
        channel=channel,
        rater_person_id=first.rater_person_id,
        created_at=ctx.now(),
    )
    _insert_once(session, evaluation, "整改结果已经评价过了")
    case.followup_evaluation_id = evaluation.id
    return evaluation


def close(session: Session, ctx: HallContext, rectification_id: int, actor: str, note: str) -> Rectification:
    """Close a rectification after the citizen's follow-up (nothing is closed without feedback)."""
    case = _step(session, ctx, rectification_id, "close")
    case.closed_at, case.closed_by, case.close_note = ctx.now(), actor, (note or "").strip()[:500] or None
    return case


def overdue(session: Session, ctx: HallContext) -> list[Rectification]:
    """Rectifications past their deadline and not yet confirmed by the citizen."""
    return list(
        session.exec(
            select(Rectification)
            .where(col(Rectification.state).in_(("open", "called_back", "rectified")))
            .where(Rectification.deadline < ctx.today())
            .order_by(col(Rectification.deadline))
        ).all()
    )
