"""The city link's status for managers: backlog, oldest unacknowledged record, last ack, bridge state."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from hallserver.api.deps import Auth, HallDep
from hallserver.sync.status import link_status

router = APIRouter(prefix="/sync", tags=["市级平台 city link"])


@router.get("/status", summary="市级平台数据同步状态（值班长、管理员）")
def status(request: Request, hall: HallDep, principal: Auth) -> dict[str, Any]:
    """What waits for the city, since when, the last acknowledgement and whether the bridge is up."""
    principal.require("manager", "admin")
    runtime = getattr(request.app.state, "city_link", None)
    publisher = runtime.publisher if runtime is not None else None
    with hall.tx() as s:
        return link_status(s, hall.ctx, publisher, hall.ctx.now())
