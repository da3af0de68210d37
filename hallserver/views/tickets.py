"""The ticket as staff and citizens are shown it, and the typed reply of ticket.issue — the same on REST
and on the bus (PROTOCOL.md: `ticket`, `group`, `waiting_ahead`, `estimated_wait_min`, `issued_at`,
`print_job_id`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from hallcore import links
from hallserver.models import Ticket
from hallserver.services.context import HallContext
from hallserver.services.lifecycle import STATE_LABELS
from hallserver.services.tickets import IssuedTicket


class TicketOut(BaseModel):
    """A ticket as the API shows it: no identity, a masked name at most."""

    id: int
    number: str
    group: str
    item_code: str | None
    item_name: str | None
    priority: str
    state: str
    state_label: str
    issued_at: datetime
    window_id: str | None
    target_window_id: str | None
    call_count: int
    masked_name: str | None
    outcome: str | None

    @classmethod
    def of(cls, t: Ticket, ctx: HallContext) -> TicketOut:
        """Build from a ticket row, times in the hall's zone."""
        return cls(
            id=t.id or 0,
            number=t.number,
            group=t.group_code,
            item_code=t.item_code,
            item_name=ctx.entry_name(t.item_code) if t.item_code else None,
            priority=t.priority,
            state=t.state,
            state_label=STATE_LABELS[t.state],  # type: ignore[index]
            issued_at=t.issued_at.astimezone(ctx.calendar.zone),
            window_id=t.window_id,
            target_window_id=t.target_window_id,
            call_count=t.call_count,
            masked_name=t.masked_name,
            outcome=t.outcome,
        )


class TicketIssued(BaseModel):
    """What the kiosk, the desk or a phone is told after ticket.issue (no identity; a masked name at most)."""

    ticket: str
    ticket_id: int
    group: str
    group_name: str
    item_name: str | None
    waiting_ahead: int
    estimated_wait_min: int | None
    issued_at: datetime
    masked_name: str | None
    lookup_url: str | None = None  # the citizen's link to the ticket (the slip's QR): an unguessable token
    print_job_id: str | None = None  # the slip sent to the kiosk's printer (bus only)
    print_error: str | None = None  # why no slip was sent, in Chinese: the kiosk shows the ticket instead

    @classmethod
    def of(cls, issued: IssuedTicket, ctx: HallContext, base_url: str | None) -> TicketIssued:
        """Build from the service's result, times in the hall's zone."""
        t = issued.ticket
        return cls(
            ticket=t.number,
            ticket_id=t.id or 0,
            group=issued.group.code,
            group_name=issued.group.name,
            item_name=ctx.entry_name(t.item_code) if t.item_code else None,
            waiting_ahead=issued.waiting_ahead,
            estimated_wait_min=issued.estimated_wait_min,
            issued_at=t.issued_at.astimezone(ctx.calendar.zone),
            masked_name=t.masked_name,
            lookup_url=lookup_url(base_url, t),
        )


def lookup_url(base_url: str | None, t: Ticket) -> str:
    """The citizen's link to a ticket: an unguessable token, never the ticket id (relative without a URL)."""
    return links.absolute(base_url, links.ticket_path(t.public_token))
