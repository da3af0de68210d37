"""Database tables of the queue core: windows, tickets, their counters and their event log."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as UTC on every backend and read back as aware UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Refuse naive values; store UTC (naive on SQLite, timestamptz on PostgreSQL)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Return aware UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_field(nullable: bool = True, index: bool = False) -> Any:
    """A UTCDateTime column."""
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


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


class Priority(StrEnum):
    """Priority class of a ticket; appointment and green tickets have their own number series."""

    normal = "normal"
    appointment = "appointment"
    green = "green"


class Outcome(StrEnum):
    """How a visit ended at the window."""

    completed = "当场办结"
    accepted = "受理"
    supplement = "补正"
    rongque = "容缺受理"
    rejected = "不予受理"
    consulted = "咨询"
    transferred = "转办"


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


class Ticket(SQLModel, table=True):
    """A queue ticket from issue to its final state."""

    __tablename__ = "ticket"
    __table_args__ = (
        sa.UniqueConstraint("series", "service_date", "seq", name="uq_ticket_number"),
        sa.Index("ix_ticket_queue", "service_date", "state", "group_code"),
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


class RequestLog(SQLModel, table=True):
    """Every bus request answered, with its reply: a retried request_id gets the first answer again."""

    __tablename__ = "request_log"

    request_id: str = Field(primary_key=True, max_length=64)
    device_id: str = Field(max_length=41)
    action: str = Field(max_length=40)
    received_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    reply: str = Field(sa_type=sa.Text, nullable=False)
