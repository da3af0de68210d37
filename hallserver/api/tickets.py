"""Ticket routes: issue, look up, cancel, rejoin after a no-show."""

from __future__ import annotations

from fastapi import APIRouter, Query
from sqlmodel import select

from hallserver.api.deps import Auth, HallDep
from hallserver.api.schemas import IssueIn, IssueOut, ReasonIn, TicketOut
from hallserver.gateway.effects import Effects
from hallserver.models import Ticket
from hallserver.services import tickets
from hallserver.services.errors import NotFound

router = APIRouter(prefix="/tickets", tags=["取号 tickets"])


@router.post("", status_code=201, summary="取号（实名或咨询类免实名）")
def issue(body: IssueIn, hall: HallDep, principal: Auth) -> IssueOut:
    """Issue a ticket for an item or a group."""
    ident = body.identity
    req = tickets.IssueRequest(
        item_code=body.item_code,
        group=body.group,
        id_number=ident.id_number if ident else None,
        name=ident.name if ident else None,
        method=ident.method if ident else "none",
        priority=body.priority,
        priority_reason=body.priority_reason,
        appointment_at=body.appointment_at,
        channel=body.channel,
    )
    with hall.tx() as s:
        issued = tickets.issue_ticket(s, hall.ctx, req)
        out = IssueOut(
            ticket=TicketOut.of(issued.ticket, hall.ctx),
            group_name=issued.group.name,
            waiting_ahead=issued.waiting_ahead,
            estimated_wait_min=issued.estimated_wait_min,
        )
    hall.notify(Effects(queue=True))
    return out


@router.get("", summary="按号码查询今日的号")
def by_number(hall: HallDep, number: str = Query(pattern=r"^[A-Z]{1,2}[0-9]{3}$")) -> TicketOut:
    """Today's ticket with this number."""
    with hall.tx() as s:
        ticket = s.exec(select(Ticket).where(Ticket.number == number, Ticket.service_date == hall.ctx.today())).first()
        if ticket is None:
            raise NotFound(f"今日没有{number}号", number=number)
        return TicketOut.of(ticket, hall.ctx)


@router.get("/{ticket_id}", summary="查询号码状态")
def get(ticket_id: int, hall: HallDep) -> TicketOut:
    """One ticket by id."""
    with hall.tx() as s:
        return TicketOut.of(tickets.get_ticket(s, ticket_id), hall.ctx)


@router.post("/{ticket_id}/cancel", summary="取消号码")
def cancel(ticket_id: int, hall: HallDep, principal: Auth, body: ReasonIn | None = None) -> TicketOut:
    """The citizen gives the ticket up."""
    with hall.tx() as s:
        ticket = tickets.cancel_ticket(s, hall.ctx, ticket_id, body.reason if body else None)
        out = TicketOut.of(ticket, hall.ctx)
    hall.notify(Effects(queue=True))
    return out


@router.post("/{ticket_id}/rejoin", summary="过号后重新排队")
def rejoin(ticket_id: int, hall: HallDep, principal: Auth) -> TicketOut:
    """A no-show rejoins within the allowed time."""
    with hall.tx() as s:
        out = TicketOut.of(tickets.rejoin_ticket(s, hall.ctx, ticket_id), hall.ctx)
    hall.notify(Effects(queue=True))
    return out
