"""绿色通道 staff confirmation: the requests kiosks sent (green.request) that wait for a staff member on the
floor, who confirms (the server issues the L ticket for the card read at that kiosk) or declines. The console
sees a masked name only; the identity stays with the server."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hallcore.errors import HallError
from hallserver.api.deps import Auth, HallDep
from hallserver.api.schemas import Int64
from hallserver.bus_view import BusView
from hallserver.services.auth import Principal

router = APIRouter(prefix="/green-requests", tags=["设备 devices"])
FLOOR_ROLES = ("staff", "chief", "manager")  # the people on the floor and at the desks


class ConfirmIn(BaseModel):
    """Optional: the queue group of the ticket (default: the green-channel window's first group)."""

    group: str | None = Field(default=None, max_length=32)


def _bus(hall: HallDep, principal: Principal) -> BusView:
    principal.require(*FLOOR_ROLES)
    if hall.gateway is None:
        raise HallError("unavailable", "消息总线未启用")
    return hall.gateway


@router.get("", summary="待工作人员核实的绿色通道请求（最早在前）")
def pending(hall: HallDep, principal: Auth) -> list[dict[str, Any]]:
    """Where, why and a masked name; expired ones are gone."""
    return [r.public() for r in _bus(hall, principal).green.pending(hall.ctx.now())]


@router.post("/{request_id}/confirm", summary="核实通过：为该自助机前的群众发放绿色通道号")
def confirm(request_id: Int64, hall: HallDep, principal: Auth, body: ConfirmIn | None = None) -> dict[str, Any]:
    """Issue the ticket; the kiosk shows and prints it."""
    data = _bus(hall, principal).green_confirm(request_id, principal.username, body.group if body else None)
    return {"ticket": data["ticket"], "group_name": data["group_name"], "masked_name": data.get("masked_name")}


@router.post("/{request_id}/decline", summary="核实未通过：自助机提示并引导普通取号")
def decline(request_id: Int64, hall: HallDep, principal: Auth) -> dict[str, Any]:
    """The kiosk explains and offers a normal ticket."""
    _bus(hall, principal).green_decline(request_id, principal.username)
    return {"declined": request_id}
