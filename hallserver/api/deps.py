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
from hallserver.bus_view import BusView
from hallserver.db import session_scope
from hallserver.events import Effects, Publisher
from hallserver.services import auth
from hallserver.services.auth import Principal, Unauthorized
from hallserver.services.context import HallContext

if TYPE_CHECKING:
    from hallserver.live.feed import FloorFeed


@dataclass
class Hall:
    """What the app keeps for its lifetime: the hall context, the database, the publisher of changes and the
    bus (as BusView: None without a broker)."""

    ctx: HallContext
    engine: Engine
    publisher: Publisher
    gateway: BusView | None = None
    devices: DeviceSet | None = None
    base_url: str | None = None  # how devices and phones reach this server (QR codes, catalog)
    live: FloorFeed | None = None  # the managers' live floor, made when the first one opens it

    def notify(self, effects: Effects) -> None:
        """Publish what an action changed: the bus gateway and the live floor listen."""
        self.publisher.changed(effects)

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
