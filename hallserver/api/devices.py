"""Device routes: what managers see of the hall-floor devices (online, printer paper ...)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from firmware_config.devices import BUS_KIND, bound_window
from hallserver.api.deps import HallDep

router = APIRouter(prefix="/devices", tags=["设备 devices"])


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
                "status": seen.status,
            }
        )
    return out
