"""The hall the phone pages read (the app's one Hall, as the API builds it), without importing another
adapter: only what the pages use."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Annotated, Protocol

from fastapi import Depends, Request
from sqlmodel import Session

from hallserver.services.context import HallContext


class Hall(Protocol):
    """The hall context and one transaction at a time."""

    ctx: HallContext

    def tx(self) -> AbstractContextManager[Session]: ...


def _hall(request: Request) -> Hall:
    hall: Hall = request.app.state.hall
    return hall


HallDep = Annotated[Hall, Depends(_hall)]
