"""Department systems push case updates here (hallq never polls them): a signed webhook, or the same JSON
with a department token for systems that cannot sign. The contract is in the README (部门审批系统回调)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from hallcore.errors import HallError
from hallserver.api.deps import Hall
from hallserver.services import case_inbound, departments
from hallserver.services.case_inbound import DepartmentUpdate
from hallserver.services.cases import InvalidUpdate
from hallserver.services.departments import Department

router = APIRouter(prefix="/departments", tags=["部门审批系统 department systems"])
log = logging.getLogger("hallq.departments")


def _parse(body: bytes) -> DepartmentUpdate:
    try:
        raw = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise InvalidUpdate("请求内容不是有效的 JSON") from None
    try:
        return DepartmentUpdate.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(整条)"
        raise InvalidUpdate(
            f"请求内容不符合接口约定：字段 {where}：{str(err['msg']).removeprefix('Value error, ')}"
        ) from None


def _claims(body: bytes) -> dict[str, Any]:
    """What an unproven or invalid body claims (event id, serial, status), for the refusal record only."""
    try:
        raw = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {k: str(raw.get(k))[:80] for k in ("event_id", "serial_no", "status") if isinstance(raw, dict) and k in raw}


def _refuse(hall: Hall, department: str | None, error: HallError, channel: str, body: bytes, **seen: Any) -> None:
    claims = _claims(body) | seen
    log.warning("department update refused: %s from %r (event %s)", error.code, department, claims.get("event_id"))
    with hall.tx() as s:
        case_inbound.record_refusal(
            s,
            hall.ctx,
            department,
            error,
            channel,
            claims.get("event_id"),
            claims.get("serial_no"),
            claims.get("status"),
            seen.get("event_at"),
            case_inbound.body_digest(body),
        )


def _apply(hall: Hall, dept: Department, body: bytes, channel: str) -> dict[str, Any]:
    try:
        event = _parse(body)
    except HallError as error:
        _refuse(hall, dept.code, error, channel, body)
        raise
    try:
        with hall.tx() as s:
            return case_inbound.apply_event(s, hall.ctx, dept, event, channel, case_inbound.body_digest(body))
    except HallError as error:
        _refuse(hall, dept.code, error, channel, body, status=event.status.value, event_at=event.at)
        raise


def _secret_dir(request: Request) -> Path:
    path: Path = request.app.state.department_secrets
    return path


def _webhook(hall: Hall, secret_dir: Path, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    claimed = headers.get("x-hallq-department")
    try:
        dept = departments.verify(
            departments.load(secret_dir),
            claimed,
            headers.get("x-hallq-timestamp"),
            headers.get("x-hallq-signature"),
            body,
            hall.ctx.now(),
        )
    except HallError as error:
        _refuse(hall, claimed, error, "webhook", body)
        raise
    return _apply(hall, dept, body, "webhook")


def _token_call(hall: Hall, secret_dir: Path, authorization: str | None, body: bytes) -> dict[str, Any]:
    scheme, _, token = (authorization or "").partition(" ")
    try:
        dept = departments.by_token(departments.load(secret_dir), token.strip() if scheme.lower() == "bearer" else None)
    except HallError as error:
        _refuse(hall, None, error, "token", body)
        raise
    return _apply(hall, dept, body, "token")


@router.post("/webhook", summary="部门审批系统回调：办件状态更新（HMAC-SHA256 签名）")
async def webhook(request: Request) -> dict[str, Any]:
    """Headers X-Hallq-Department, X-Hallq-Timestamp, X-Hallq-Signature (sha256=hex of HMAC-SHA256 over
    "<timestamp>.<raw body>"); body: event_id, serial_no, status, at and the status's fields."""
    body = await request.body()
    hall: Hall = request.app.state.hall
    headers = {k.lower(): v for k, v in request.headers.items()}
    return await run_in_threadpool(_webhook, hall, _secret_dir(request), headers, body)


@router.post("/updates", summary="部门系统办件状态更新（部门令牌，无法签名的系统使用）")
async def token_update(request: Request) -> dict[str, Any]:
    """The same body as the webhook, with `Authorization: Bearer <department token>`."""
    body = await request.body()
    hall: Hall = request.app.state.hall
    return await run_in_threadpool(_token_call, hall, _secret_dir(request), request.headers.get("authorization"), body)
