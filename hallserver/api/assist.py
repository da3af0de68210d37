"""呼叫工作人员: the help requests kiosks sent over the bus (assist.request), for the staff on duty."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from hallcore.errors import HallError, NotFound
from hallserver.api.deps import Auth, HallDep
from hallserver.api.schemas import Int64

router = APIRouter(prefix="/assist-requests", tags=["设备 devices"])


@router.get("", summary="自助机呼叫工作人员的请求（最新在前）")
def assist_requests(
    hall: HallDep, principal: Auth, open_only: bool = Query(default=False, description="只看未处理的")
) -> list[dict[str, Any]]:
    """Where and when a citizen asked for help; empty without the bus."""
    if hall.gateway is None:
        return []
    return [c.public() for c in hall.gateway.assist.recent(open_only)]


@router.post("/{call_id}/ack", summary="认领一个呼叫请求")
def acknowledge(call_id: Int64, hall: HallDep, principal: Auth) -> dict[str, Any]:
    """Mark the request as taken by the logged-in staff member."""
    if hall.gateway is None:
        raise HallError("unavailable", "消息总线未启用")
    call = hall.gateway.assist.acknowledge(call_id, principal.username)
    if call is None:
        raise NotFound(f"没有编号为 {call_id} 的呼叫请求")
    return call.public()
