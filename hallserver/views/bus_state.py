"""Build the public state messages (windows, queue, calls, catalog version) from the database."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from broker.messages import Call, CatalogVersion, GroupQueue, QueueState, WindowState
from firmware_config.hall import Staff
from hallcore.announce import call_speech, call_text
from hallserver.models import Ticket, TicketEvent, WindowRow
from hallserver.services import estimates, windows
from hallserver.services.context import HallContext


def window_state(session: Session, ctx: HallContext, window_id: str, ts: datetime) -> WindowState:
    """What the display of one window shows."""
    v = windows.view(session, ctx, window_id)
    staff = _staff_on_duty(ctx, window_id, v.staff_role)
    return WindowState(
        ts=ts,
        window_id=v.id,
        name=v.name,
        number=v.number,
        status=v.status,
        status_reason=v.status_reason,
        serving=v.serving,
        phase=v.serving_state,  # called or serving; None without a ticket
        called_at=v.called_at,
        staff_display_name=v.staff_display_name,
        staff_duties=staff.duties if staff else None,
        staff_contact=staff.contact if staff else None,
        groups=v.groups,
    )


def _staff_on_duty(ctx: HallContext, window_id: str, role: str) -> Staff | None:
    window = next((w for w in ctx.profile.windows if w.id == window_id), None)
    staff_id = (window.staff.a if role == "A" else window.staff.b) if window else None
    return ctx.profile.staff_member(staff_id) if staff_id else None


def all_window_states(session: Session, ctx: HallContext, ts: datetime) -> list[WindowState]:
    """Every window's state."""
    ids = session.exec(select(WindowRow.id).order_by(col(WindowRow.number))).all()
    return [window_state(session, ctx, i, ts) for i in ids]


def queue_state(session: Session, ctx: HallContext, ts: datetime) -> QueueState:
    """Waiting and estimates per group."""
    return QueueState(
        ts=ts,
        groups=[
            GroupQueue(
                group=g.group,
                name=g.name,
                prefix=g.prefix,
                waiting=g.waiting,
                estimated_wait_min=g.estimated_wait_min,
            )
            for g in estimates.queue_state(session, ctx)
        ],
    )


def _call(ctx: HallContext, event: TicketEvent, number: str) -> Call:
    window = next(w for w in ctx.profile.windows if w.id == event.window_id)
    recall = event.action == "recall"
    return Call(
        ts=event.at.astimezone(ctx.calendar.zone),
        call_id=str(event.id),
        ticket=number,
        window_id=window.id,
        window_name=window.name,
        text=call_text(number, window.number, recall),
        speech=call_speech(number, window.number, recall),
        recall=recall,
    )


def recent_calls(session: Session, ctx: HallContext, limit: int = 10) -> list[Call]:
    """Today's latest calls and recalls, newest first."""
    rows = session.exec(
        select(TicketEvent, Ticket.number)
        .join(Ticket, col(Ticket.id) == TicketEvent.ticket_id)
        .where(
            col(TicketEvent.action).in_(("call", "recall")),
            Ticket.service_date == ctx.today(),
            col(TicketEvent.window_id).is_not(None),
        )
        .order_by(col(TicketEvent.id).desc())
        .limit(limit)
    ).all()
    return [_call(ctx, event, number) for event, number in rows]


def latest_call(session: Session, ctx: HallContext, ticket_id: int) -> Call | None:
    """The most recent call or recall of one ticket."""
    row = session.exec(
        select(TicketEvent, Ticket.number)
        .join(Ticket, col(Ticket.id) == TicketEvent.ticket_id)
        .where(TicketEvent.ticket_id == ticket_id, col(TicketEvent.action).in_(("call", "recall")))
        .order_by(col(TicketEvent.id).desc())
        .limit(1)
    ).first()
    return _call(ctx, row[0], row[1]) if row else None


def catalog_version(ctx: HallContext, base_url: str, ts: datetime) -> CatalogVersion:
    """Where kiosks fetch the catalog, and which version is current."""
    version = ctx.catalog.version
    return CatalogVersion(ts=ts, version=version, etag=f'"{version}"', url=f"{base_url}/api/v1/catalog")
