"""Tables of the queue: windows and the groups they serve, tickets, their counters and their event log."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from hallcore.commands import Priority  # the command and the row share it
from hallserver.models.columns import UTCDateTime, utc_field


class WindowStatus(StrEnum):
    """Whether a window takes calls."""

    open = "open"
    paused = "paused"
    closed = "closed"


class TicketState(StrEnum):
    """Life cycle of a ticket."""

    waiting = "waiting"
    called = "called"
    serving = "serving"
    suspended = "suspended"
    no_show = "no_show"
    done = "done"
    cancelled = "cancelled"


ACTIVE_STATES = (TicketState.called, TicketState.serving)
HELD_STATES = (TicketState.waiting, TicketState.called, TicketState.serving, TicketState.suspended)


class WindowRow(SQLModel, table=True):
    """A window's live state; seeded from the hall profile, then changed by managers."""

    __tablename__ = "window"

    id: str = Field(primary_key=True, max_length=8)
    name: str = Field(max_length=40)
    number: int
    kind: str = Field(max_length=16)
    status: str = Field(default=WindowStatus.open, max_length=8)
    status_reason: str | None = Field(default=None, max_length=100)
    staff_role: str = Field(default="A", max_length=1)
    updated_at: datetime | None = utc_field()


class WindowGroup(SQLModel, table=True):
    """A queue group a window currently serves."""

    __tablename__ = "window_group"

    window_id: str = Field(foreign_key="window.id", primary_key=True, max_length=8)
    group_code: str = Field(primary_key=True, max_length=32)


class TicketCounter(SQLModel, table=True):
    """Last number issued per series and day: incremented atomically, never reused."""

    __tablename__ = "ticket_counter"

    series: str = Field(primary_key=True, max_length=2)
    service_date: date = Field(primary_key=True)
    last: int = 0


def new_public_token() -> str:
    """A ticket's public token: 128 random bits, URL-safe (22 characters)."""
    return secrets.token_urlsafe(16)


# Called before (a rejoined no-show, a transfer to a group) or transferred to a window: the partial index below.
REVISIT = "call_count > 0 OR target_window_id IS NOT NULL"


class Ticket(SQLModel, table=True):
    """A queue ticket from issue to its final state."""

    __tablename__ = "ticket"
    __table_args__ = (
        sa.UniqueConstraint("series", "service_date", "seq", name="uq_ticket_number"),
        sa.Index("ix_ticket_queue", "service_date", "state", "group_code"),
        # Recent service times per group (wait estimates on every issue and call): newest first, no scan.
        sa.Index("ix_ticket_service_times", "group_code", "state", "finished_at", "started_at"),
        # One person's tickets of a day (real-name daily cap, one waiting per group): no scan of the day.
        sa.Index("ix_ticket_person_day", "identity_hash", "service_date"),
        # A group's waiting line of a day in queue order (call next, people ahead, rejoin).
        sa.Index("ix_ticket_line", "service_date", "group_code", "state", "queue_key"),
        # A group's waiting bookings of a day in slot order (call next: the earliest slot due), ties in queue order.
        sa.Index(
            "ix_ticket_booking_line",
            "service_date",
            "group_code",
            "state",
            "priority",
            "appointment_at",
            "queue_key",
            "id",
        ),
        # A group's waiting line of one kind (walk-in, green, booking) in queue order: call next finds the
        # first of each kind in one index step, even when a kind has nobody waiting.
        sa.Index("ix_ticket_kind_line", "service_date", "group_code", "state", "priority", "queue_key", "id"),
        # The few waiting tickets that were called before or sent to a window (call next loads them all).
        sa.Index(
            "ix_ticket_revisits",
            "service_date",
            "state",
            sqlite_where=sa.text(REVISIT),
            postgresql_where=sa.text(REVISIT),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=8)
    series: str = Field(max_length=2)
    seq: int
    service_date: date
    group_code: str = Field(max_length=32)
    item_code: str | None = Field(default=None, max_length=64)
    priority: str = Field(default=Priority.normal, max_length=12)
    channel: str = Field(default="kiosk", max_length=12)
    state: str = Field(default=TicketState.waiting, max_length=12)
    identity_hash: str | None = Field(default=None, max_length=64, index=True)
    masked_name: str | None = Field(default=None, max_length=20)
    issued_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    queue_key: datetime = Field(sa_type=UTCDateTime, nullable=False)
    appointment_at: datetime | None = utc_field()
    target_window_id: str | None = Field(default=None, max_length=8)
    window_id: str | None = Field(default=None, max_length=8)
    call_count: int = 0
    called_at: datetime | None = utc_field()
    started_at: datetime | None = utc_field()
    suspended_at: datetime | None = utc_field()
    no_show_at: datetime | None = utc_field()
    finished_at: datetime | None = utc_field()
    outcome: str | None = Field(default=None, max_length=8)
    note: str | None = Field(default=None, max_length=200)
    # The citizen's unguessable handle on the ticket (the slip's QR code): ids are sequential and stay staff-only.
    public_token: str = Field(default_factory=new_public_token, max_length=32, unique=True, index=True)


class TicketEvent(SQLModel, table=True):
    """Every transition of a ticket, for audit, reports and service-time estimates."""

    __tablename__ = "ticket_event"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    action: str = Field(max_length=16)
    from_state: str | None = Field(default=None, max_length=12)
    to_state: str = Field(max_length=12)
    window_id: str | None = Field(default=None, max_length=8)
    group_code: str = Field(max_length=32)
    detail: str | None = Field(default=None, max_length=200)
