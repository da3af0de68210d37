"""Typed dependencies of the API routes: the hall (context + database)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlmodel import Session

from hallserver.db import session_scope
from hallserver.gateway.effects import Effects
from hallserver.gateway.gateway import Gateway
from hallserver.services.context import HallContext


@dataclass
class Hall:
    """What the app keeps for its lifetime: the hall context, the database and the bus gateway."""

    ctx: HallContext
    engine: Engine
    gateway: Gateway | None = None

    def notify(self, effects: Effects) -> None:
        """Tell the bus what an action changed (nothing without a broker)."""
        if self.gateway is not None:
            self.gateway.notify(effects)

    def tx(self) -> AbstractContextManager[Session]:
        """One transaction; routes build their response inside it, so the commit happens before
        anything is sent and a failed commit is an error response, never a false success."""
        return session_scope(self.engine)


def _hall(request: Request) -> Hall:
    hall: Hall = request.app.state.hall
    return hall


HallDep = Annotated[Hall, Depends(_hall)]
