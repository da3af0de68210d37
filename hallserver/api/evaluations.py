"""好差评 and 差评整改: ratings from kiosks, QR codes and SMS; the rectification desk for chiefs and managers.
No response here carries the rater's identity."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field
from sqlmodel import col, select

from hallcore.commands import Identity
from hallserver.api.deps import Auth, HallDep
from hallserver.api.schemas import Body, Int64, RowId
from hallserver.models import Evaluation, Rectification
from hallserver.services import auth, evaluations, rating_proof
from hallserver.services.context import HallContext
from hallserver.services.rating_proof import Proof

router = APIRouter(tags=["好差评 evaluations"])


class EvaluationIn(Body):
    """A rating: level 1..5 where 5 = 非常满意 (as on the bus), with the proof that the rater had the visit:
    the visit's 6-digit rating code or its one-time link token (both in the rating invitation), or the ID
    card that took the ticket (`identity`). Without one the rating is refused."""

    visit_id: RowId | None = None
    ticket: str | None = Field(default=None, max_length=8)
    level: int = Field(ge=1, le=5)
    indicators: dict[str, Int64] = Field(default_factory=dict)
    comment: str | None = Field(default=None, max_length=500)
    channel: Literal["kiosk", "qr", "sms", "evaluator"] = "qr"
    identity: Identity | None = None
    code: str | None = Field(default=None, min_length=6, max_length=6, pattern=r"^\d{6}$", description="评价码")
    token: str | None = Field(default=None, max_length=80, description="评价链接中的令牌")


class NoteIn(Body):
    """A call-back record or a closing note."""

    note: str = Field(min_length=2, max_length=500)


class RectifyIn(Body):
    """Measures taken and their result."""

    measures: str = Field(min_length=2, max_length=1000)
    result: str = Field(min_length=2, max_length=1000)


class FollowupIn(Body):
    """The citizen's rating of the rectification, with the proof of the rated visit (as for a rating)."""

    level: int = Field(ge=1, le=5)
    channel: Literal["kiosk", "qr", "sms", "evaluator"] = "sms"
    comment: str | None = Field(default=None, max_length=500)
    identity: Identity | None = None
    code: str | None = Field(default=None, min_length=6, max_length=6, pattern=r"^\d{6}$", description="评价码")
    token: str | None = Field(default=None, max_length=80, description="评价链接中的令牌")


def _proof(body: EvaluationIn | FollowupIn) -> Proof:
    """What the caller shows: the link token, else the rating code, else the ID card (REST has no device)."""
    if body.token:
        return Proof(token=body.token)
    if body.code:
        return Proof(code=body.code)
    if body.identity is not None:
        return Proof(id_number=body.identity.id_number)
    raise rating_proof.NotProven()


def rectification_view(r: Rectification, ctx: HallContext) -> dict[str, Any]:
    """A rectification case with its state and deadline (no rater identity)."""
    zone = ctx.calendar.zone
    overdue = r.state in ("open", "called_back", "rectified") and r.deadline < ctx.today()
    return {
        "id": r.id,
        "visit_id": r.visit_id,
        "evaluation_id": r.evaluation_id,
        "department": r.department,
        "window_id": r.window_id,
        "staff_id": r.staff_id,
        "state": r.state,
        "state_label": evaluations.STATE_LABELS[r.state],
        "opened_at": r.opened_at.astimezone(zone).isoformat(),
        "deadline": r.deadline.isoformat(),
        "overdue": overdue,
        "callback_note": r.callback_note,
        "measures": r.measures,
        "result": r.result,
        "followup_evaluation_id": r.followup_evaluation_id,
    }


def _owner(principal: auth.Principal, r: Rectification) -> None:
    """Chiefs work their department's cases (谁办理谁负责); managers every case."""
    principal.require("chief", "manager", "admin")
    if principal.role == "chief" and r.department != principal.department:
        raise auth.Forbidden("该整改记录不属于您所在的部门")


@router.post("/evaluations", status_code=201, summary="提交评价（一次一评）")
def submit(body: EvaluationIn, hall: HallDep) -> dict[str, Any]:
    """Rate a visit by id or by today's ticket number, proven by its rating code, link or ID card (an
    evaluator at the window rates over the bus); a 差评 opens a rectification."""
    proof = _proof(body)
    with hall.tx() as s:
        evaluation, case = evaluations.submit(
            s,
            hall.ctx,
            body.level,
            body.channel,
            body.visit_id,
            body.ticket,
            body.indicators,
            body.comment,
            body.identity.id_number if body.identity else None,
            proof=proof,
        )
        return {
            "evaluation": asdict(evaluations.view(evaluation, hall.ctx)),
            "is_bad": evaluation.is_bad,
            "rectification_id": case.id if case else None,
            "message": "感谢您的评价" if not evaluation.is_bad else "感谢您的反馈，我们将在规定时间内回访整改",
        }


@router.get("/evaluations", summary="评价记录（不含评价人身份）")
def list_evaluations(hall: HallDep, principal: Auth, visit_id: RowId | None = None) -> list[dict[str, Any]]:
    """Ratings, newest first; staff see ratings of their own windows' visits only through reports."""
    principal.require("chief", "manager", "admin")
    with hall.tx() as s:
        query = select(Evaluation).order_by(col(Evaluation.id).desc()).limit(500)
        if visit_id is not None:
            query = query.where(Evaluation.visit_id == visit_id)
        return [asdict(evaluations.view(e, hall.ctx)) for e in s.exec(query).all()]


@router.get("/rectifications", summary="差评整改台账")
def list_rectifications(
    hall: HallDep, principal: Auth, overdue: bool = Query(default=False, description="只看超期未整改的")
) -> list[dict[str, Any]]:
    """Every rectification (a chief sees their department's), or only the overdue ones."""
    principal.require("chief", "manager", "admin")
    with hall.tx() as s:
        rows = (
            evaluations.overdue(s, hall.ctx)
            if overdue
            else s.exec(select(Rectification).order_by(col(Rectification.id).desc()).limit(500)).all()
        )
        if principal.role == "chief":
            rows = [r for r in rows if r.department == principal.department]
        return [rectification_view(r, hall.ctx) for r in rows]


def _act(hall: HallDep, principal: auth.Principal, rectification_id: int, step: str, **kw: Any) -> dict[str, Any]:
    with hall.tx() as s:
        case = s.get(Rectification, rectification_id)
        if case is not None:
            _owner(principal, case)
        if step == "callback":
            case = evaluations.callback(s, hall.ctx, rectification_id, principal.username, kw["note"])
        elif step == "rectify":
            case = evaluations.rectify(s, hall.ctx, rectification_id, principal.username, kw["measures"], kw["result"])
        else:
            case = evaluations.close(s, hall.ctx, rectification_id, principal.username, kw["note"])
        s.flush()
        return rectification_view(case, hall.ctx)


@router.post("/rectifications/{rectification_id}/callback", summary="记录回访")
def callback(rectification_id: RowId, body: NoteIn, hall: HallDep, principal: Auth) -> dict[str, Any]:
    """open → called back."""
    return _act(hall, principal, rectification_id, "callback", note=body.note)


@router.post("/rectifications/{rectification_id}/rectify", summary="记录整改措施与结果")
def rectify(rectification_id: RowId, body: RectifyIn, hall: HallDep, principal: Auth) -> dict[str, Any]:
    """called back → rectified."""
    return _act(hall, principal, rectification_id, "rectify", measures=body.measures, result=body.result)


@router.post("/rectifications/{rectification_id}/close", summary="办结整改（须已有群众回评）")
def close(rectification_id: RowId, body: NoteIn, hall: HallDep, principal: Auth) -> dict[str, Any]:
    """confirmed → closed."""
    return _act(hall, principal, rectification_id, "close", note=body.note)


@router.post("/rectifications/{rectification_id}/followup", status_code=201, summary="群众对整改结果的回评")
def followup(rectification_id: RowId, body: FollowupIn, hall: HallDep) -> dict[str, Any]:
    """The citizen rates the rectification, proven like a rating; rectified → confirmed."""
    proof = _proof(body)
    with hall.tx() as s:
        evaluation = evaluations.followup(
            s, hall.ctx, rectification_id, body.level, body.channel, body.comment, proof=proof
        )
        return {"evaluation": asdict(evaluations.view(evaluation, hall.ctx))}
