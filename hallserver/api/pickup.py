"""证照自助领取 over REST, for staff: put a case's 证照 in a cabinet door, and see which doors hold what.
Opening is the cabinet's alone (bus `pickup.open`, for the ID card read on it): no REST route opens a door."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hallcore.errors import NotFound
from hallcore.pickup import DepositPickup
from hallserver.api.case_desk import department_scope
from hallserver.api.deps import Auth, HallDep
from hallserver.services import pickup
from hallserver.services.auth import Forbidden
from hallserver.services.cases import belongs_to, get_case

router = APIRouter(prefix="/pickup", tags=["办件 cases"])


def _cabinets(hall: Any) -> dict[str, int]:
    devices = hall.devices.devices if hall.devices is not None else ()
    return {d.id: d.doors for d in devices if d.type == "pickup_cabinet"}


@router.post("/deposits", summary="证照放入自助领取柜（办件转为待领取·自助领取）")
def deposit(body: DepositPickup, hall: HallDep, principal: Auth) -> dict[str, Any]:
    """Staff of the case's department (or a manager) put its 证照 in a free door."""
    scope = department_scope(principal)
    with hall.tx() as s:
        case = get_case(s, body.serial_no)
        if scope is not None and not belongs_to(hall.ctx, case, scope):
            raise Forbidden("只能放入本部门办件的证照")
        slot = pickup.deposit(s, hall.ctx, body, _cabinets(hall), principal.username)
    return {"cabinet": slot.cabinet, "door": slot.door, "serial_no": slot.serial_no, "item_name": slot.item_name}


@router.get("/cabinets/{cabinet}", summary="自助领取柜各柜门存放的证照")
def cabinet_doors(cabinet: str, hall: HallDep, principal: Auth) -> dict[str, Any]:
    """Doors holding 证照 not yet collected (serial number and item; no personal data)."""
    department_scope(principal)
    cabinets = _cabinets(hall)
    if cabinet not in cabinets:
        raise NotFound(f"没有编号为 {cabinet} 的证照自助领取柜")
    with hall.tx() as s:
        slots = pickup.occupied(s, hall.ctx, cabinet)
    doors = [{"door": d, "serial_no": v.serial_no, "item_name": v.item_name} for d, v in sorted(slots.items())]
    return {"cabinet": cabinet, "doors": cabinets[cabinet], "occupied": doors}
