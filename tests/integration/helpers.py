"""Small helpers to drive the services in their own transactions, as the API does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

from hallcore.commands import IssueTicket
from hallserver.db import session_scope
from hallserver.models import Ticket
from hallserver.services import tickets
from hallserver.services.context import HallContext

T = TypeVar("T")


def id_number(seed: int) -> str:
    """A valid 18-digit ID number derived from a seed (check digit computed)."""
    body = f"440305{1950 + seed % 50:04d}{1 + seed % 12:02d}{1 + seed % 28:02d}{seed % 1000:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


def tx(engine: Engine, fn: Callable[[Session], T]) -> T:
    """Run fn in one committed transaction."""
    with session_scope(engine) as s:
        return fn(s)


def issue(engine: Engine, ctx: HallContext, **kw: Any) -> Ticket:
    """Issue a ticket; defaults to an anonymous consultation ticket."""
    if "item_code" not in kw and "group" not in kw:
        kw["group"] = "consult"
    return tx(engine, lambda s: tickets.issue_ticket(s, ctx, command(**kw)).ticket)


def command(**kw: Any) -> IssueTicket:
    """The ticket.issue command from flat keywords (`id_number`, `name`, `method` form its identity)."""
    person = {k: kw.pop(k) for k in ("id_number", "name", "method") if k in kw}
    if person.get("id_number"):
        kw["identity"] = {"method": "id_card", **person}
    return IssueTicket(**kw)


def reload(engine: Engine, ticket_id: int) -> Ticket:
    """A fresh copy of a ticket."""
    return tx(engine, lambda s: tickets.get_ticket(s, ticket_id))


def item_in(ctx: HallContext, domain: str) -> str:
    """The code of the first catalog item of a domain."""
    return next(code for code, d in ctx.catalog.domain_of.items() if d == domain and code in ctx.catalog.items)
