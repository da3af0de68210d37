"""Device routes: what managers see of the hall-floor devices (online, printer paper ...)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from broker.messages import speaks_current_contract
from firmware_config.devices import BUS_KIND, bound_window
from hallcore.errors import HallError
from hallserver.api.deps import Auth, Hall, HallDep
from hallserver.api.schemas import Body
from hallserver.bus_view import BusView

router = APIRouter(prefix="/devices", tags=["设备 devices"])
notices = APIRouter(prefix="/notices", tags=["设备 devices"])


class NoticeIn(Body):
    """A notice for every display in the hall."""

    message: str = Field(min_length=2, max_length=120)


def _gateway(hall: Hall) -> BusView:
    if hall.gateway is None:
        raise HallError("unavailable", "消息总线未启用，无法向显示屏发布通知")
    return hall.gateway


@notices.post("", summary="向所有显示屏发布通知（管理员）")
def broadcast(body: NoticeIn, hall: HallDep, principal: Auth) -> dict[str, Any]:
    """Shown on every window and hall display until cleared."""
    principal.require("manager", "admin")
    return {"displays": _gateway(hall).broadcast(body.message), "message": body.message}


@notices.delete("", summary="撤下显示屏通知（管理员）")
def clear(hall: HallDep, principal: Auth) -> dict[str, Any]:
    """Remove the notice from every display."""
    principal.require("manager", "admin")
    return {"displays": _gateway(hall).broadcast(None)}


@router.get("", summary="设备在线状态与健康状况")
def devices(hall: HallDep) -> list[dict[str, Any]]:
    """Every device of the hall with its availability and last status (empty without the bus)."""
    gateway = hall.gateway
    if gateway is None:
        return []
    out = []
    for d in gateway.devices.devices:
        seen = gateway.seen[d.id]
        out.append(
            {
                "id": d.id,
                "name": d.name,
                "type": d.type,
                "kind": BUS_KIND[d.type],
                "window": bound_window(d),
                "location": d.location,
                "online": seen.online,
                "since": seen.since.isoformat() if seen.since else None,
                "version": seen.version,
                # False for a device that speaks an older contract than the server (PROTOCOL.md v2)
                "contract_current": speaks_current_contract(seen.version) if seen.version else None,
                "status": seen.status,
            }
        )
    return out
