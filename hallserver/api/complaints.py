"""Complaints and 办不成事 (000 §35–37, 002 §53): window staff record them, chiefs and managers classify,
assign, answer and close; the written reply for printing; the overdue list; and the public intake the phone
page posts to (no login, rate-limited per client). Translates HTTP; the complaints service decides."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from hallcore.complaints import ComplaintSubmit, Feedback
from hallcore.errors import HallError
from hallserver.api.deps import Auth, Hall, HallDep
from hallserver.mobile.limits import AttemptLimit
from hallserver.services import complaints
from hallserver.services.auth import Principal

router = APIRouter(tags=["投诉与办不成事 complaints"])
HANDLERS = ("chief", "manager", "admin")
RECORDERS = ("staff", *HANDLERS)
REFERENCE = Path(min_length=8, max_length=16, pattern=r"^[A-Za-z0-9]+$")


class TooMany(HallError):
    """Too many submissions from one client."""

    http_status = 429

    def __init__(self) -> None:
        super().__init__("rate_limited", "提交过于频繁，请稍后再试或到大厅办不成事窗口反映")


_limit_lock = threading.Lock()


def _check_rate(request: Request, hall: Hall) -> None:
    """At most 5 public submissions per client address in 10 minutes, on the hall's clock (one limiter per
    app, the same per-client limit the phone pages use for guessable lookups)."""
    state = request.app.state
    client = request.client.host if request.client else "unknown"
    with _limit_lock:
        limit = getattr(state, "complaint_limit", None)
        if limit is None:
            limit = state.complaint_limit = AttemptLimit(attempts=5, window=timedelta(minutes=10))
        if not limit.allow(client, hall.ctx.now()):
            raise TooMany()


class ClassifyIn(BaseModel):
    in_remit: bool
    department: str | None = Field(default=None, max_length=60)


class AssignIn(BaseModel):
    assignee: str = Field(min_length=1, max_length=60)


class AnswerIn(BaseModel):
    reply: str = Field(min_length=1, max_length=4000)


class CloseIn(BaseModel):
    feedback: Literal["satisfied", "basic", "unsatisfied"]
    comment: str | None = Field(default=None, max_length=500)


def _recorder(principal: Principal) -> None:
    principal.require(*RECORDERS)


def _handler(principal: Principal) -> None:
    principal.require(*HANDLERS)


@router.post("/public/complaints", status_code=201, summary="群众通过手机页面反映投诉或办不成事（无需登录）")
def public_submit(body: ComplaintSubmit, hall: HallDep, request: Request) -> dict[str, Any]:
    """The phone page's intake: a reference and the date an answer is due; nothing else is returned."""
    _check_rate(request, hall)
    with hall.tx() as s:
        return complaints.submit(s, hall.ctx, body, channel="phone", by="public").view()


@router.post("/complaints", status_code=201, summary="窗口登记投诉或办不成事")
def record(body: ComplaintSubmit, hall: HallDep, principal: Auth) -> dict[str, Any]:
    """Window staff (and above) record what a citizen brings to the window."""
    _recorder(principal)
    with hall.tx() as s:
        done = complaints.submit(s, hall.ctx, body, channel="window", by=principal.username)
        return done.view() | complaints.view(hall.ctx, done.complaint)


@router.get("/complaints", summary="投诉与办不成事台账")
def ledger(
    hall: HallDep, principal: Auth, state: str | None = Query(default=None, pattern=r"^[a-z]{1,12}$")
) -> list[dict[str, Any]]:
    """The newest complaints, masked."""
    _recorder(principal)
    with hall.tx() as s:
        return [complaints.view(hall.ctx, c) for c in complaints.ledger(s, state)]


@router.get("/complaints/overdue", summary="逾期未办结的投诉与办不成事")
def overdue(hall: HallDep, principal: Auth) -> list[dict[str, Any]]:
    _recorder(principal)
    with hall.tx() as s:
        return [complaints.view(hall.ctx, c) for c in complaints.overdue(s, hall.ctx)]


@router.get("/complaints/{reference}", summary="一件投诉的详情与办理过程")
def detail(hall: HallDep, principal: Auth, reference: str = REFERENCE) -> dict[str, Any]:
    _recorder(principal)
    with hall.tx() as s:
        c = complaints.get(s, reference)
        zone = hall.ctx.calendar.zone
        steps = [
            {"at": e.at.astimezone(zone).isoformat(), "actor": e.actor, "action": e.action, "note": e.note}
            for e in complaints.steps(s, c)
        ]
        return complaints.view(hall.ctx, c) | {"steps": steps}


@router.post("/complaints/{reference}/classify", summary="分类：属于本大厅职责或移交主管部门")
def classify(body: ClassifyIn, hall: HallDep, principal: Auth, reference: str = REFERENCE) -> dict[str, Any]:
    _handler(principal)
    with hall.tx() as s:
        c = complaints.classify(
            s, hall.ctx, complaints.get(s, reference), body.in_remit, principal.username, body.department
        )
        return complaints.view(hall.ctx, c)


@router.post("/complaints/{reference}/assign", summary="交办（本大厅承办人）或移交主管部门")
def assign(body: AssignIn, hall: HallDep, principal: Auth, reference: str = REFERENCE) -> dict[str, Any]:
    _handler(principal)
    with hall.tx() as s:
        c = complaints.assign(s, hall.ctx, complaints.get(s, reference), body.assignee, principal.username)
        return complaints.view(hall.ctx, c)


@router.post("/complaints/{reference}/answer", summary="答复")
def answer(body: AnswerIn, hall: HallDep, principal: Auth, reference: str = REFERENCE) -> dict[str, Any]:
    _handler(principal)
    with hall.tx() as s:
        c = complaints.answer(s, hall.ctx, complaints.get(s, reference), body.reply, principal.username)
        return complaints.view(hall.ctx, c)


@router.post("/complaints/{reference}/close", summary="办结（记录群众评价）")
def close(body: CloseIn, hall: HallDep, principal: Auth, reference: str = REFERENCE) -> dict[str, Any]:
    _handler(principal)
    with hall.tx() as s:
        c = complaints.close(
            s, hall.ctx, complaints.get(s, reference), Feedback(body.feedback), principal.username, body.comment
        )
        return complaints.view(hall.ctx, c)


@router.get("/complaints/{reference}/written-reply", summary="书面答复（A4打印）")
def written_reply(hall: HallDep, principal: Auth, reference: str = REFERENCE) -> dict[str, Any]:
    _recorder(principal)
    with hall.tx() as s:
        return complaints.written_reply(hall.ctx, complaints.get(s, reference)).model_dump(mode="json")
