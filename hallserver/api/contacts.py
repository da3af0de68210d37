"""Phone numbers and consent for notifications, for window staff: record a citizen's number for a visit,
opt a number out on request, and the outbox at a glance for managers. Numbers come back masked only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hallcore.contacts import CONSENT_TEXT, OptOut, VisitContact
from hallcore.errors import NotFound
from hallserver.api.deps import Auth, HallDep
from hallserver.api.schemas import RowId
from hallserver.models import Visit
from hallserver.services.notify import contacts, outbox

router = APIRouter(tags=["通知 notifications"])


@router.get("/notifications/consent", summary="登记手机号码时向群众展示的同意条款")
def consent_text() -> dict[str, str]:
    """The consent line kiosks, staff and phone pages show before a number is kept."""
    return {"text": CONSENT_TEXT}


@router.post("/visits/{visit_id}/contact", status_code=201, summary="为办事群众登记接收提醒的手机号码")
def record_for_visit(visit_id: RowId, body: VisitContact, hall: HallDep, principal: Auth) -> dict[str, Any]:
    """Staff of the visit's window (or chiefs, managers) record a number the citizen gave with consent."""
    with hall.tx() as s:
        visit = s.get(Visit, visit_id)
        if visit is None:
            raise NotFound(f"办件记录 {visit_id} 不存在")
        principal.require_window(visit.window_id)
        done = contacts.for_visit(s, hall.ctx, visit_id, body.phone, body.consent, body.channel, principal.username)
        return done.view()


@router.post("/contacts/opt-out", summary="按群众要求退订提醒")
def opt_out(body: OptOut, hall: HallDep, principal: Auth) -> dict[str, Any]:
    """Stop every message to a number; queued ones are cancelled."""
    with hall.tx() as s:
        cancelled = contacts.opt_out_number(s, hall.ctx, body.phone, via="window")
        return {"cancelled": cancelled, "message": "已退订，该号码不再接收任何提醒"}


@router.get("/notifications/summary", summary="通知发送情况（按状态计数）")
def summary(hall: HallDep, principal: Auth) -> dict[str, int]:
    """Messages per state: queued, sent, delivered, failed, expired, cancelled."""
    principal.require("manager", "admin", "chief")
    with hall.tx() as s:
        return outbox.counts(s)
