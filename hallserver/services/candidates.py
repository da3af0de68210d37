"""The waiting tickets a calling window's policy looks at — only those that can matter, so a call costs the
same with ten people waiting or ten thousand.

Among a group's never-called, undirected tickets of one kind every registered policy only ever picks the
first in some order: walk-ins and green by queue place (for them queue place, issue time and starvation-cap
start coincide), bookings by queue place or by slot. So per group (the window's own, and those an overflow
rule lets it help with) one statement loads the first of each kind in each of those orders (one index step
each, on ix_ticket_kind_line and ix_ticket_booking_line), plus every ticket transferred to this window and every
ticket called before (rejoined no-shows, transfers to the group), which are few (ix_ticket_revisits).
tests/integration/test_candidates.py checks the choice against a full scan on random queues."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Session, col

from firmware_config.hall import OverflowRule
from hallserver.models import Ticket, TicketEvent, TicketState, UTCDateTime
from hallserver.models.queue import REVISIT
from hallserver.services import ticket_rows
from hallserver.services.allocation import Candidate

COLUMNS = (
    col(Ticket.id),
    col(Ticket.number),
    col(Ticket.group_code),
    col(Ticket.priority),
    col(Ticket.queue_key),
    col(Ticket.appointment_at),
    col(Ticket.target_window_id),
    col(Ticket.issued_at),
    col(Ticket.call_count),
)


@dataclass(frozen=True)
class Reach:
    """What a window may call: its own groups, and per helped group the minutes a ticket must have waited."""

    window_id: str
    groups: tuple[str, ...]
    helps: dict[str, int]


def reach(window_id: str, groups: Sequence[str], overflow: Sequence[OverflowRule]) -> Reach:
    """A window's reach from its groups and the hall's overflow rules (a rule for its own group adds nothing;
    two rules for one group: the shorter threshold)."""
    helps: dict[str, int] = {}
    for rule in overflow:
        if window_id in rule.windows and rule.group not in groups:
            helps[rule.group] = min(rule.after_minutes, helps.get(rule.group, rule.after_minutes))
    return Reach(window_id, tuple(groups), helps)


_COLUMNS = "id, number, group_code, priority, queue_key, appointment_at, target_window_id, issued_at, call_count"
_FRESH = (
    "FROM ticket WHERE service_date = :day AND group_code = :g{i} AND state = 'waiting'"
    " AND call_count = 0 AND target_window_id IS NULL"
)
_BY_PLACE = "queue_key, id"
# The first of each kind in each order a policy uses (queue place for every kind; slot then queue place, and
# slot then id, for bookings — a booking always has its slot, tickets._check_priority).
_KINDS = (
    ("priority = 'normal'", _BY_PLACE),
    ("priority = 'green'", _BY_PLACE),
    ("priority = 'appointment'", _BY_PLACE),
    ("priority = 'appointment' AND appointment_at IS NOT NULL", "appointment_at, " + _BY_PLACE),
    ("priority = 'appointment' AND appointment_at IS NOT NULL", "appointment_at, id"),
)


@cache
def _statement(groups: int, thresholds: tuple[bool, ...], skipped: int) -> str:
    """One plain statement per shape (how many groups, which of them wait for a threshold, how many tickets to
    skip): written once, then sent to the driver as it is (no statement built or compiled per call).
    Tickets transferred to this window, or called before (rejoined no-shows, transfers to the group), are few
    and all loaded; of the fresh ones, per group the first of each kind."""
    names = ", ".join(f":g{i}" for i in range(groups))
    parts = [
        f"SELECT {_COLUMNS} FROM ticket WHERE service_date = :day AND state = 'waiting' AND ({REVISIT})"
        f" AND (target_window_id = :window OR (target_window_id IS NULL AND group_code IN ({names})))"
    ]
    skip = f" AND id NOT IN ({', '.join(f':s{k}' for k in range(skipped))})" if skipped else ""
    for i in range(groups):
        fresh = _FRESH.format(i=i) + skip + (f" AND issued_at <= :by{i}" if thresholds[i] else "")
        for kind, order in _KINDS:
            parts.append(f"SELECT * FROM (SELECT {_COLUMNS} {fresh} AND {kind} ORDER BY {order} LIMIT 1) AS f")
    return " UNION ALL ".join(parts)


def rejoined_at(session: Session, ticket_ids: Sequence[int]) -> dict[int, datetime]:
    """The last rejoin of each of these tickets (a no-show who came back): where its cap starts again."""
    if not ticket_ids:
        return {}
    rows = session.execute(
        sa.select(col(TicketEvent.ticket_id), sa.func.max(col(TicketEvent.at), type_=UTCDateTime()))
        .where(col(TicketEvent.ticket_id).in_(list(ticket_ids)), col(TicketEvent.action) == "rejoin")
        .group_by(col(TicketEvent.ticket_id))
    ).all()
    return {tid: at for tid, at in rows}


def to_candidates(session: Session, rows: Sequence[Any]) -> list[Candidate]:
    """Rows of COLUMNS as candidates, each with the instant its starvation cap counts from."""
    called_before = [r.id for r in rows if r.call_count]
    rejoins = rejoined_at(session, called_before)
    out = []
    for r in rows:
        since = rejoins.get(r.id, r.issued_at)
        out.append(
            Candidate(
                r.id, r.number, r.group_code, r.priority, r.queue_key, r.appointment_at, r.target_window_id, since
            )
        )
    return out


def visible(cands: Sequence[Candidate], where: Reach, now: datetime) -> list[Candidate]:
    """Drop a helped group's tickets that have not waited its overflow threshold yet."""
    out = []
    for c in cands:
        after = where.helps.get(c.group) if c.target_window_id != where.window_id else None
        if after is not None and c.cap_start > now - timedelta(minutes=after):
            continue
        out.append(c)
    return out


def load(
    session: Session, day: date, where: Reach, now: datetime, skip: frozenset[int] = frozenset()
) -> list[Candidate]:
    """The candidates the policy needs (see the module docstring), without a scan of the queue in Python;
    `skip`: tickets another window claimed meanwhile (the next of their kind is loaded instead)."""
    groups = [*where.groups, *where.helps]
    dialect = session.get_bind().dialect
    params: dict[str, Any] = {"day": day, "window": where.window_id}
    params |= {f"g{i}": g for i, g in enumerate(groups)}
    params |= {f"s{k}": t for k, t in enumerate(sorted(skip))}
    thresholds = tuple(g in where.helps for g in groups)
    for i, g in enumerate(groups):
        if thresholds[i]:
            params[f"by{i}"] = ticket_rows.bound(dialect, "issued_at", now - timedelta(minutes=where.helps[g]))
    statement = _statement(len(groups), thresholds, len(skip))
    read = _reader(dialect)
    rows: dict[int, _Row] = {}
    for raw in ticket_rows.run(session, statement, **params):
        row = _Row(*(convert(value) for convert, value in zip(read, raw, strict=True)))
        if row.id not in skip:
            rows[row.id] = row
    return visible(to_candidates(session, list(rows.values())), where, now)


class _Row(NamedTuple):
    id: int
    number: str
    group_code: str
    priority: str
    queue_key: datetime
    appointment_at: datetime | None
    target_window_id: str | None
    issued_at: datetime
    call_count: int


@cache
def _reader(dialect: Dialect) -> tuple[Callable[[Any], Any], ...]:
    """Per column of _COLUMNS, how the driver's value becomes the ORM's (UTC datetimes on every backend)."""
    table = Ticket.__table__  # type: ignore[attr-defined]
    out = []
    for name in _Row._fields:
        process = table.c[name].type.dialect_impl(dialect).result_processor(dialect, None)
        out.append(process or _same)
    return tuple(out)


def _same(value: Any) -> Any:
    return value


def load_all(session: Session, day: object, where: Reach, now: datetime) -> list[Candidate]:
    """Every waiting ticket the window may call (the full scan `load` must agree with; tests and tools)."""
    groups = [*where.groups, *where.helps]
    rows = session.execute(
        sa.select(*COLUMNS).where(
            col(Ticket.service_date) == day,
            col(Ticket.state) == TicketState.waiting,
            (col(Ticket.target_window_id) == where.window_id)
            | (col(Ticket.target_window_id).is_(None) & col(Ticket.group_code).in_(groups)),
        )
    ).all()
    return visible(to_candidates(session, rows), where, now)
