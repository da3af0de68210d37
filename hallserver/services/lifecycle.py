"""The ticket state machine: which action may move a ticket from which state, and the event log."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from hallcore.errors import Conflict
from hallserver.models import Ticket, TicketEvent, TicketState

W, C, S, P, N, D, X = (
    TicketState.waiting,
    TicketState.called,
    TicketState.serving,
    TicketState.suspended,
    TicketState.no_show,
    TicketState.done,
    TicketState.cancelled,
)

# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[TicketState], TicketState]] = {
    "call": (frozenset({W}), C),
    "recall": (frozenset({C}), C),
    "no_show": (frozenset({C}), N),
    "start": (frozenset({C}), S),
    "finish": (frozenset({S}), D),
    "transfer": (frozenset({C, S}), W),
    "suspend": (frozenset({S}), P),
    "resume": (frozenset({P}), S),
    "rejoin": (frozenset({N}), W),
    "cancel": (frozenset({W, C, N, P}), X),
}

STATE_LABELS = {
    W: "等候中",
    C: "已呼叫",
    S: "办理中",
    P: "已挂起",
    N: "已过号",
    D: "已办结",
    X: "已取消",
}

ACTION_LABELS = {
    "call": "呼叫",
    "recall": "重呼",
    "no_show": "标记过号",
    "start": "开始办理",
    "finish": "办结",
    "transfer": "转办",
    "suspend": "挂起",
    "resume": "恢复办理",
    "rejoin": "重新排队",
    "cancel": "取消",
}


def transition(
    session: Session,
    ticket: Ticket,
    action: str,
    now: datetime,
    window_id: str | None = None,
    detail: str | None = None,
) -> None:
    """Move a ticket through an action, or refuse with invalid_transition; logs the event."""
    allowed, target = TRANSITIONS[action]
    current = TicketState(ticket.state)
    if current not in allowed:
        raise Conflict(
            "invalid_transition",
            f"{ticket.number}号当前{STATE_LABELS[current]}，不能{ACTION_LABELS[action]}",
            ticket=ticket.number,
            state=current.value,
            action=action,
        )
    ticket.state = target
    log_event(session, ticket, action, current, now, window_id, detail)


def log_event(
    session: Session,
    ticket: Ticket,
    action: str,
    from_state: TicketState | None,
    now: datetime,
    window_id: str | None = None,
    detail: str | None = None,
) -> None:
    """Record one step of a ticket's life (issue, call, finish ...) in the event log."""
    session.add(ticket)
    session.add(
        TicketEvent(
            ticket_id=ticket.id,  # type: ignore[arg-type]
            at=now,
            action=action,
            from_state=from_state,
            to_state=ticket.state,
            window_id=window_id,
            group_code=ticket.group_code,
            detail=detail,
        )
    )
