"""The complaints and 办不成事 ledger: one row per request (name and phone as keyed hash + masked form +
ciphertext, never plaintext) and every step taken on it, with time and actor."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from hallserver.models.columns import UTCDateTime, utc_field


class ComplaintState(StrEnum):
    """received → classified → assigned → answered → closed."""

    received = "received"
    classified = "classified"
    assigned = "assigned"  # to a handler in the hall, or passed on to the competent department
    answered = "answered"
    closed = "closed"


COMPLAINT_STATE_LABELS = {
    ComplaintState.received: "已受理登记",
    ComplaintState.classified: "已分类",
    ComplaintState.assigned: "办理中",
    ComplaintState.answered: "已答复",
    ComplaintState.closed: "已办结",
}
OPEN_COMPLAINT_STATES = (
    ComplaintState.received,
    ComplaintState.classified,
    ComplaintState.assigned,
)


class Complaint(SQLModel, table=True):
    """A complaint or 办不成事 request and where it stands."""

    __tablename__ = "complaint"
    __table_args__ = (sa.Index("ix_complaint_state_due", "state", "due_date"),)

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=16, unique=True, description="Short reference the citizen is given")
    kind: str = Field(max_length=10, description="complaint | cannot_do")
    channel: str = Field(max_length=8, description="window | kiosk | phone")
    received_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    received_by: str = Field(max_length=41, description="Staff username or device id; 'public' for phone pages")
    content: str = Field(sa_type=sa.Text, description="ID numbers inside are masked before storing")
    item_code: str | None = Field(default=None, max_length=40)
    key_id: str | None = Field(default=None, max_length=16)
    name_masked: str | None = Field(default=None, max_length=30)
    name_cipher: str | None = Field(default=None, sa_type=sa.Text)
    phone_hash: str | None = Field(default=None, max_length=64, index=True)
    phone_masked: str | None = Field(default=None, max_length=11)
    phone_cipher: str | None = Field(default=None, sa_type=sa.Text)
    written_reply: bool = False
    state: str = Field(default=ComplaintState.received, max_length=10)
    in_remit: bool | None = None
    department: str | None = Field(default=None, max_length=60, description="Competent department (out of remit)")
    due_date: date = Field(description="Answer (in remit) or transfer (out of remit) due on this day")
    assignee: str | None = Field(default=None, max_length=60)
    assigned_at: datetime | None = utc_field()
    reply: str | None = Field(default=None, sa_type=sa.Text)
    answered_at: datetime | None = utc_field()
    answered_by: str | None = Field(default=None, max_length=41)
    closed_at: datetime | None = utc_field()
    feedback: str | None = Field(default=None, max_length=12, description="satisfied | basic | unsatisfied")
    feedback_comment: str | None = Field(default=None, max_length=500)


class ComplaintEvent(SQLModel, table=True):
    """One step on a complaint: what, when, by whom."""

    __tablename__ = "complaint_event"

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaint.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    actor: str = Field(max_length=41)
    action: str = Field(max_length=12)
    note: str | None = Field(default=None, max_length=1000)
