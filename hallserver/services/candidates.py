"""The waiting tickets a calling window's policy looks at — only those that can matter, so a call costs the
same with ten people waiting or ten thousand.

Among a group's never-called, undirected tickets of one kind every registered policy only ever picks the
first in some order: walk-ins and green by queue place (for them queue place, issue time and starvation-cap
start coincide), bookings by queue place or by slot. So per group (the window's own, and those an overflow
rule lets it help with) one statement loads the first of each kind in each of those orders (index steps on
ix_ticket_line), plus every ticket transferred to this window and every ticket called before (rejoined
no-shows, transfers to the group), which are few. tests/integration/test_candidates.py checks the choice
against a full scan on random queues."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col

from firmware_config.hall import OverflowRule
from hallserver.models import Priority, Ticket, TicketEvent, TicketState, UTCDateTime
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


def _firsts(day: object, group: str, skip: frozenset[int], issued_by: datetime | None) -> list[sa.Select]:
    """The group's never-called, undirected tickets a policy can pick: the first of each kind in each order a
    policy uses (queue place for every kind; slot then queue place, and slot then id, for bookings — a
    booking always has its slot, tickets._check_priority).
    `issued_by`: a helped group's threshold (for these tickets the cap starts at the issue)."""
    base = sa.select(*COLUMNS).where(
        col(Ticket.service_date) == day,
        col(Ticket.group_code) == group,
        col(Ticket.state) == TicketState.waiting,
        col(Ticket.call_count) == 0,
        col(Ticket.target_window_id).is_(None),
    )
    if skip:
        base = base.where(col(Ticket.id).not_in(list(skip)))
    if issued_by is not None:
        base = base.where(col(Ticket.issued_at) <= issued_by)
    by_place = (col(Ticket.queue_key), col(Ticket.id))
    booked = base.where(col(Ticket.priority) == Priority.appointment)
    slotted = booked.where(col(Ticket.appointment_at).is_not(None))
    return [
        base.where(col(Ticket.priority) == Priority.normal).order_by(*by_place).limit(1),
        base.where(col(Ticket.priority) == Priority.green).order_by(*by_place).limit(1),
        booked.order_by(*by_place).limit(1),
        slotted.order_by(col(Ticket.appointment_at), *by_place).limit(1),
        slotted.order_by(col(Ticket.appointment_at), col(Ticket.id)).limit(1),
    ]


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


def to_candidates(session: Session, rows: Sequence[sa.Row]) -> list[Candidate]:
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
    session: Session, day: object, where: Reach, now: datetime, skip: frozenset[int] = frozenset()
) -> list[Candidate]:
    """The candidates the policy needs (see the module docstring), without a scan of the queue in Python;
    `skip`: tickets another window claimed meanwhile (the next of their kind is loaded instead)."""
    groups = [*where.groups, *where.helps]
    # Tickets transferred to this window, and tickets called before (rejoined no-shows, transfers): few.
    others = sa.select(*COLUMNS).where(
        col(Ticket.service_date) == day,
        col(Ticket.state) == TicketState.waiting,
        (col(Ticket.target_window_id) == where.window_id)
        | (col(Ticket.target_window_id).is_(None) & col(Ticket.group_code).in_(groups) & (col(Ticket.call_count) > 0)),
    )
    thresholds = {g: now - timedelta(minutes=after) for g, after in where.helps.items()}
    parts = [others, *(q for g in groups for q in _firsts(day, g, skip, thresholds.get(g)))]
    union = sa.union_all(*(sa.select(q.subquery()) for q in parts))
    rows = {r.id: r for r in session.execute(union).all() if r.id not in skip}
    return visible(to_candidates(session, list(rows.values())), where, now)


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
