"""Ticket routes: issue, look up (staff by id or number; citizens by the slip's token), cancel, rejoin."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel
from sqlmodel import select

from hallcore.errors import NotFound
from hallserver.api.deps import Auth, HallDep
from hallserver.api.schemas import IssueTicketIn, RowId, WithReasonIn
from hallserver.events import Effects
from hallserver.models import Ticket, TicketState
from hallserver.services import estimates, tickets
from hallserver.services.lifecycle import STATE_LABELS
from hallserver.views.tickets import TicketIssued, TicketOut

router = APIRouter(prefix="/tickets", tags=["取号 tickets"])
TOKEN_PATTERN = r"^[A-Za-z0-9_-]+$"  # secrets.token_urlsafe


class PublicTicketOut(BaseModel):
    """What anyone holding the slip may see: no id, no identity beyond the masked name."""

    number: str
    group: str
    group_name: str
    item_name: str | None
    state: str
    state_label: str
    issued_at: datetime
    waiting_ahead: int | None
    estimated_wait_min: int | None
    window_id: str | None
    masked_name: str | None


@router.post("", status_code=201, summary="取号（实名或咨询类免实名）")
def issue(body: IssueTicketIn, hall: HallDep, principal: Auth) -> TicketIssued:
    """Issue a ticket for an item or a group: the same command and reply as the bus's ticket.issue."""
    with hall.tx() as s:
        out = TicketIssued.of(tickets.issue_ticket(s, hall.ctx, body), hall.ctx, hall.base_url)
    hall.notify(Effects(queue=True))
    return out


@router.get("", summary="按号码查询今日的号（工作人员）")
def by_number(
    hall: HallDep, principal: Auth, number: str = Query(pattern=r"^[A-Z]{1,2}([0-9]{3}|[1-9][0-9]{3})$")
) -> TicketOut:
    """Today's ticket with this number; numbers are sequential, so this needs a login like the id route."""
    with hall.tx() as s:
        ticket = s.exec(select(Ticket).where(Ticket.number == number, Ticket.service_date == hall.ctx.today())).first()
        if ticket is None:
            raise NotFound(f"今日没有{number}号", number=number)
        return TicketOut.of(ticket, hall.ctx)


@router.get("/by-token/{token}", summary="凭取号凭条二维码查询排队进度（群众，无需登录）")
def by_token(hall: HallDep, token: str = Path(min_length=16, max_length=64, pattern=TOKEN_PATTERN)) -> PublicTicketOut:
    """The ticket the slip's QR code (and the kiosk's screen when the slip did not print) names: its number,
    queue, state, people ahead and estimated wait. The token is unguessable; ids never appear here."""
    with hall.tx() as s:
        ticket = s.exec(select(Ticket).where(Ticket.public_token == token)).first()
        if ticket is None:
            raise NotFound("没有找到这张排队凭条，请核对二维码或咨询工作人员")
        group = next((g for g in hall.ctx.profile.groups if g.code == ticket.group_code), None)
        ahead: int | None = None
        wait: int | None = None
        if ticket.state == TicketState.waiting and ticket.service_date == hall.ctx.today():
            ahead = tickets.waiting_ahead(s, ticket)
            wait = estimates.wait_for(s, hall.ctx, group, ahead) if group else None
        return PublicTicketOut(
            number=ticket.number,
            group=ticket.group_code,
            group_name=group.name if group else ticket.group_code,
            item_name=hall.ctx.entry_name(ticket.item_code) if ticket.item_code else None,
            state=ticket.state,
            state_label=STATE_LABELS[ticket.state],  # type: ignore[index]
            issued_at=ticket.issued_at.astimezone(hall.ctx.calendar.zone),
            waiting_ahead=ahead,
            estimated_wait_min=wait,
            window_id=ticket.window_id if ticket.state in (TicketState.called, TicketState.serving) else None,
            masked_name=ticket.masked_name,
        )


@router.get("/{ticket_id}", summary="按编号查询号码状态（工作人员）")
def get(ticket_id: RowId, hall: HallDep, principal: Auth) -> TicketOut:
    """One ticket by id; ids are sequential, so only staff and devices look tickets up this way."""
    with hall.tx() as s:
        return TicketOut.of(tickets.get_ticket(s, ticket_id), hall.ctx)


@router.post("/{ticket_id}/cancel", summary="取消号码")
def cancel(ticket_id: RowId, hall: HallDep, principal: Auth, body: WithReasonIn | None = None) -> TicketOut:
    """The citizen gives the ticket up."""
    with hall.tx() as s:
        ticket = tickets.cancel_ticket(s, hall.ctx, ticket_id, body.reason if body else None)
        out = TicketOut.of(ticket, hall.ctx)
    hall.notify(Effects(queue=True))
    return out


@router.post("/{ticket_id}/rejoin", summary="过号后重新排队")
def rejoin(ticket_id: RowId, hall: HallDep, principal: Auth) -> TicketOut:
    """A no-show rejoins within the allowed time."""
    with hall.tx() as s:
        out = TicketOut.of(tickets.rejoin_ticket(s, hall.ctx, ticket_id), hall.ctx)
    hall.notify(Effects(queue=True))
    return out
