"""What the staff console shows of one window: its current ticket with times and masked applicant, how many
wait in the queues it serves, the suspended tickets it can take up again, the items it may record, and the
last visit that has paperwork."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from hallserver.models import (
    ACTIVE_STATES,
    NOTICE_OUTCOMES,
    Person,
    Ticket,
    TicketState,
    Visit,
    WindowGroup,
    needs_paper,
)
from hallserver.services import estimates
from hallserver.services.context import HallContext


@dataclass(frozen=True)
class Applicant:
    """The applicant as staff see them by default: masked. The full identity needs the audited reveal."""

    person_id: int
    name: str | None
    id: str


@dataclass(frozen=True)
class Suspended:
    """A ticket on hold at this window."""

    id: int
    number: str
    item_name: str | None
    suspended_at: datetime | None


@dataclass(frozen=True)
class ItemChoice:
    """An item the ticket's queue serves (for tickets taken for a queue, not an item)."""

    code: str
    name: str


@dataclass(frozen=True)
class LastPaper:
    """The window's latest visit that printed a document (for 重新打印)."""

    visit_id: int
    ticket: str
    outcome: str
    label: str


@dataclass(frozen=True)
class QueueWaiting:
    """One queue the window serves: how many wait in it and the estimated wait for the last of them."""

    group: str
    name: str
    prefix: str
    waiting: int
    longest_wait_min: int
    estimated_wait_min: int | None


@dataclass(frozen=True)
class Desk:
    """The serving ticket's times (seconds, by the hall's clock) and what goes with it."""

    now: datetime
    ticket_id: int | None
    called_at: datetime | None
    started_at: datetime | None
    waited_s: int | None
    serving_s: int | None
    applicant: Applicant | None
    items: list[ItemChoice]
    suspended: list[Suspended]
    last_paper: LastPaper | None
    queues: list[QueueWaiting]
    waiting: int  # everyone waiting in the window's queues


def _active(session: Session, ctx: HallContext, window_id: str) -> Ticket | None:
    return session.exec(
        select(Ticket).where(
            Ticket.window_id == window_id,
            Ticket.service_date == ctx.today(),
            col(Ticket.state).in_(ACTIVE_STATES),
        )
    ).first()


def desk(session: Session, ctx: HallContext, window_id: str) -> Desk:
    """The console's view of a window right now."""
    now = ctx.now()
    zone = ctx.calendar.zone
    t = _active(session, ctx, window_id)
    queues = queues_of(session, ctx, window_id)
    applicant = None
    if t is not None and t.identity_hash:
        person = session.exec(select(Person).where(Person.id_hash == t.identity_hash)).first()
        if person is not None and person.id is not None:
            applicant = Applicant(person.id, person.masked_name, person.masked_id)
    return Desk(
        now=now.astimezone(zone),
        ticket_id=t.id if t else None,
        called_at=t.called_at.astimezone(zone) if t and t.called_at else None,
        started_at=t.started_at.astimezone(zone) if t and t.started_at else None,
        waited_s=int(((t.called_at or now) - t.issued_at).total_seconds()) if t else None,
        serving_s=int((now - t.started_at).total_seconds()) if t and t.started_at else None,
        applicant=applicant,
        items=item_choices(ctx, t.group_code) if t else [],
        suspended=_suspended(session, ctx, window_id),
        last_paper=last_paper(session, ctx, window_id),
        queues=queues,
        waiting=sum(q.waiting for q in queues),
    )


def queues_of(session: Session, ctx: HallContext, window_id: str) -> list[QueueWaiting]:
    """The queues the window serves now (managers change them at run time), in the hall's group order."""
    codes = set(session.exec(select(WindowGroup.group_code).where(WindowGroup.window_id == window_id)).all())
    return [
        QueueWaiting(g.group, g.name, g.prefix, g.waiting, g.longest_wait_min, g.estimated_wait_min)
        for g in estimates.queue_state(session, ctx)
        if g.group in codes
    ]


def item_choices(ctx: HallContext, group_code: str) -> list[ItemChoice]:
    """Items and 一件事 of the queue's domains (every item for queues without domains, e.g. 咨询)."""
    group = next((g for g in ctx.profile.groups if g.code == group_code), None)
    domains = set(group.domains) if group and group.domains else None
    out: list[ItemChoice] = []
    for d in ctx.catalog.public["domains"]:
        if domains is None or d["code"] in domains:
            out.extend(ItemChoice(code, ctx.entry_name(code)) for code in (*d["items"], *d.get("bundles", [])))
    return out


def _suspended(session: Session, ctx: HallContext, window_id: str) -> list[Suspended]:
    rows = session.exec(
        select(Ticket)
        .where(
            Ticket.window_id == window_id,
            Ticket.service_date == ctx.today(),
            Ticket.state == TicketState.suspended,
        )
        .order_by(col(Ticket.suspended_at))
    ).all()
    zone = ctx.calendar.zone
    return [
        Suspended(
            t.id or 0,
            t.number,
            ctx.entry_name(t.item_code) if t.item_code else None,
            t.suspended_at.astimezone(zone) if t.suspended_at else None,
        )
        for t in rows
    ]


def last_paper(session: Session, ctx: HallContext, window_id: str) -> LastPaper | None:
    """Today's latest visit at the window whose outcome prints a document."""
    visits = session.exec(
        select(Visit)
        .where(Visit.window_id == window_id, Visit.service_date == ctx.today())
        .order_by(col(Visit.id).desc())
        .limit(20)
    ).all()
    for v in visits:
        if needs_paper(v.outcome) and v.id is not None:
            label = "一次性告知书" if v.outcome in NOTICE_OUTCOMES else "受理凭证"
            if v.outcome == "不予受理":
                label = "不予受理凭证"
            return LastPaper(v.id, v.ticket_number, v.outcome, label)
    return None
