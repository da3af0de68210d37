"""Typed dependencies of the API routes: the hall (context + database)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlmodel import Session

from firmware_config.devices import DeviceSet
from hallserver.db import session_scope
from hallserver.services import auth
from hallserver.services.auth import Principal, Unauthorized
from hallserver.services.context import HallContext

if TYPE_CHECKING:  # the gateway imports the API's schemas: only types are needed here
    from hallserver.gateway.effects import Effects
    from hallserver.gateway.gateway import Gateway
    from hallserver.live.feed import FloorFeed


@dataclass
class Hall:
    """What the app keeps for its lifetime: the hall context, the database and the bus gateway."""

    ctx: HallContext
    engine: Engine
    gateway: Gateway | None = None
    devices: DeviceSet | None = None
    live: FloorFeed | None = None  # the managers' live floor, made when the first one opens it

    def notify(self, effects: Effects) -> None:
        """Tell the bus (nothing without a broker) and the live floor what an action changed."""
        if self.gateway is not None:
            self.gateway.notify(effects)
        if self.live is not None:
            self.live.notify(effects)

    def tx(self) -> AbstractContextManager[Session]:
        """One transaction; routes build their response inside it, so the commit happens before
        anything is sent and a failed commit is an error response, never a false success."""
        return session_scope(self.engine)


def _hall(request: Request) -> Hall:
    hall: Hall = request.app.state.hall
    return hall


HallDep = Annotated[Hall, Depends(_hall)]
bearer = HTTPBearer(auto_error=False, description="登录令牌（/api/v1/auth/login）或设备令牌")


def _principal(hall: HallDep, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
    if credentials is None or not credentials.credentials:
        raise Unauthorized()
    with hall.tx() as s:
        return auth.authenticate(s, hall.ctx, hall.devices, credentials.credentials)


Auth = Annotated[Principal, Depends(_principal)]
