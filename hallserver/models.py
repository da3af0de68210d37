"""Database tables of the queue core: windows, tickets, their counters and their event log."""

from __future__ import annotations

import secrets
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


def new_public_token() -> str:
    """A ticket's public token: 128 random bits, URL-safe (22 characters)."""
    return secrets.token_urlsafe(16)


class Ticket(SQLModel, table=True):
    """A queue ticket from issue to its final state."""

    __tablename__ = "ticket"
    __table_args__ = (
        sa.UniqueConstraint("series", "service_date", "seq", name="uq_ticket_number"),
        sa.Index("ix_ticket_queue", "service_date", "state", "group_code"),
        # Recent service times per group (wait estimates on every issue and call): newest first, no scan.
        sa.Index("ix_ticket_service_times", "group_code", "state", "finished_at", "started_at"),
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


class RequestLog(SQLModel, table=True):
    """Every bus request answered, with its reply: a retried request_id gets the first answer again.
    Idempotency is per device (contract v2): the same request_id from another device is another request."""

    __tablename__ = "request_log"

    device_id: str = Field(primary_key=True, max_length=41)
    request_id: str = Field(primary_key=True, max_length=64)
    action: str = Field(max_length=40)
    received_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    reply: str = Field(sa_type=sa.Text, nullable=False)


class Person(SQLModel, table=True):
    """A citizen known by a keyed hash; the ID number and name are kept only encrypted (AES-GCM)."""

    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    id_hash: str = Field(max_length=64, unique=True, index=True)
    id_kind: str = Field(max_length=20)
    masked_id: str = Field(max_length=18)
    masked_name: str | None = Field(default=None, max_length=20)
    key_id: str = Field(max_length=16)
    id_cipher: str = Field(sa_type=sa.Text)
    name_cipher: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class CaseStatus(StrEnum):
    """Where an accepted case (办件) stands."""

    accepted = "已受理"
    reviewing = "审查中"
    completed = "已办结"
    ready = "待领取"
    collected = "已领取"
    posted = "已邮寄"


class Visit(SQLModel, table=True):
    """One service at a window (a ticket served, or one leg of it before a transfer)."""

    __tablename__ = "visit"
    __table_args__ = (
        sa.Index("ix_visit_ended", "ended_at"),
        sa.Index("ix_visit_window_ended", "window_id", "ended_at"),
        # Covering indexes for reports: one per dimension, holding every column a report reads.
        *(
            sa.Index(f"ix_visit_report_{dim}", dim, "service_date", "wait_s", "service_s", "rating_gb", "rect_state")
            for dim in ("window_id", "staff_id", "item_code", "department")
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    ticket_number: str = Field(max_length=8)
    service_date: date
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    group_code: str = Field(max_length=32)
    item_code: str | None = Field(default=None, max_length=64, index=True)
    window_id: str = Field(max_length=8)
    staff_id: str | None = Field(default=None, max_length=32, index=True)
    staff_role: str = Field(max_length=1)
    department: str | None = Field(default=None, max_length=60, index=True)
    arrived_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    called_at: datetime | None = utc_field()
    started_at: datetime | None = utc_field()
    ended_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    wait_s: int = Field(default=0, description="arrival → call")
    service_s: int = Field(default=0, description="start → end")
    outcome: str = Field(max_length=8)
    materials: str | None = Field(default=None, sa_type=sa.Text, description="JSON: missing or owed materials")
    deadline: date | None = None
    reason: str | None = Field(default=None, max_length=200)
    serial_no: str | None = Field(default=None, max_length=80, index=True)
    # Kept in step by the evaluation services, so a report reads one narrow index instead of three tables.
    rating_gb: int | None = Field(default=None, description="The initial rating (GB code), if any")
    rect_state: str | None = Field(default=None, max_length=8, description="open | on_time | late")


class SerialCounter(SQLModel, table=True):
    """Last sequence of the unified business serial number per item and day: never reused."""

    __tablename__ = "serial_counter"

    item_code: str = Field(primary_key=True, max_length=64)
    day: date = Field(primary_key=True)
    last: int = 0


class ServiceCase(SQLModel, table=True):
    """An accepted case (办件) with its unified business serial number (统一业务流水号)."""

    __tablename__ = "service_case"

    serial_no: str = Field(primary_key=True, max_length=80)
    item_code: str = Field(max_length=64)
    visit_id: int = Field(foreign_key="visit.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    accepted_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    promised_date: date
    status: str = Field(default=CaseStatus.accepted, max_length=8)
    delivery: str = Field(default="窗口领取", max_length=8)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class CaseEvent(SQLModel, table=True):
    """Each status change of a case, for the progress query's history."""

    __tablename__ = "case_event"

    id: int | None = Field(default=None, primary_key=True)
    serial_no: str = Field(foreign_key="service_case.serial_no", index=True, max_length=80)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    status: str = Field(max_length=8)
    note: str | None = Field(default=None, max_length=200)
    actor: str | None = Field(default=None, max_length=40)


class Evaluation(SQLModel, table=True):
    """A rating of one visit (一次一评). `rater_person_id` is confidential: no staff API returns it."""

    __tablename__ = "evaluation"
    __table_args__ = (sa.UniqueConstraint("visit_id", "kind", name="uq_evaluation_once"),)

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visit.id", index=True)
    kind: str = Field(default="initial", max_length=10, description="initial | followup")
    level_gb: int = Field(description="GB/T 39046 code: 1 = 非常满意 … 5 = 非常不满意")
    is_bad: bool
    indicators: str | None = Field(default=None, max_length=200, description="JSON: 态度/效率/水平 → GB code")
    comment: str | None = Field(default=None, max_length=500)
    channel: str = Field(max_length=10)
    rater_person_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class Rectification(SQLModel, table=True):
    """差评整改: opened by every bad rating, owned by the department and window that served."""

    __tablename__ = "rectification"

    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluation.id", unique=True)
    visit_id: int = Field(foreign_key="visit.id", index=True)
    department: str | None = Field(default=None, max_length=60, index=True)
    window_id: str = Field(max_length=8)
    staff_id: str | None = Field(default=None, max_length=32)
    state: str = Field(default="open", max_length=12, index=True)
    opened_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    deadline: date
    callback_at: datetime | None = utc_field()
    callback_by: str | None = Field(default=None, max_length=40)
    callback_note: str | None = Field(default=None, max_length=500)
    measures: str | None = Field(default=None, max_length=1000)
    result: str | None = Field(default=None, max_length=1000)
    rectified_at: datetime | None = utc_field()
    followup_evaluation_id: int | None = Field(default=None, foreign_key="evaluation.id")
    closed_at: datetime | None = utc_field()
    closed_by: str | None = Field(default=None, max_length=40)
    close_note: str | None = Field(default=None, max_length=500)


class AuditEntry(SQLModel, table=True):
    """Every staff read of decrypted personal data: who, whose, why, when."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    actor: str = Field(max_length=40)
    action: str = Field(max_length=30)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    purpose: str = Field(max_length=200)


class Credential(SQLModel, table=True):
    """A staff member's password (scrypt hash); the username is the staff id from the hall profile."""

    __tablename__ = "credential"

    username: str = Field(primary_key=True, max_length=32)
    password_hash: str = Field(max_length=200)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class AuthToken(SQLModel, table=True):
    """A bearer token, stored only as its SHA-256: a login session, or a device's long-lived token."""

    __tablename__ = "auth_token"

    token_hash: str = Field(primary_key=True, max_length=64)
    username: str = Field(max_length=41, index=True)
    kind: str = Field(max_length=8, description="session | device")
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    expires_at: datetime | None = utc_field()
    revoked: bool = False
