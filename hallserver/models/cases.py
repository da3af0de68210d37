"""Tables of the service itself: citizens (encrypted), visits at the windows, and accepted cases (办件)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from hallcore.commands import Outcome  # the command and the row share it
from hallserver.models.columns import UTCDateTime, utc_field

# The paper a visit ends with: a 受理凭证 (不予受理凭证 for a rejection) or the 一次性告知书 listing what to bring.
RECEIPT_OUTCOMES = (Outcome.accepted, Outcome.rongque, Outcome.completed, Outcome.rejected)
NOTICE_OUTCOMES = (Outcome.supplement,)


def needs_paper(outcome: str | None) -> bool:
    """Whether a visit with this outcome ends with a printed document (咨询 and 转办 do not)."""
    return outcome in RECEIPT_OUTCOMES or outcome in NOTICE_OUTCOMES


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
    # The same ID under the city's identity key (PROTOCOL.md): what city records carry; filled by the city
    # link's capture the first time a record names this person.
    city_hash: str | None = Field(default=None, max_length=64)


class CaseStatus(StrEnum):
    """Where an accepted case (办件) stands."""

    accepted = "已受理"
    reviewing = "审查中"
    completed = "已办结"
    committed = "告知承诺准予"  # approved on the applicant's written commitment (告知承诺制, 002 §28)
    denied = "不予批准"  # a written decision with its reason (000 §11, 003 §16)
    suspended = "中止办理"  # a 补正/容缺 deadline passed; resumes when the materials come
    withdrawn = "视为撤回"  # a 补正/容缺 deadline passed: the application is deemed withdrawn
    revoked = "已撤销"  # an approval on commitment revoked (承诺未履行)
    ready = "待领取"
    collected = "已领取"
    posted = "已邮寄"
    delivered = "已送达"  # 电子送达


# Cases still running against their promised date (the overdue list and the on-time rate count these).
OPEN_CASE_STATES = (CaseStatus.accepted, CaseStatus.reviewing)


class Visit(SQLModel, table=True):
    """One service at a window (a ticket served, or one leg of it before a transfer)."""

    __tablename__ = "visit"
    __table_args__ = (
        sa.Index("ix_visit_ended", "ended_at"),
        sa.Index("ix_visit_deadline", "deadline", "outcome"),  # 补正 deadlines the housekeeping watches
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
    received: str | None = Field(default=None, sa_type=sa.Text, description="JSON: materials handed in (None: all)")
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
    status: str = Field(default=CaseStatus.accepted, max_length=8, index=True)
    delivery: str = Field(default="窗口领取", max_length=8)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    result: str | None = Field(default=None, max_length=100, description="The result handed over (办理结果)")
    reason: str | None = Field(default=None, max_length=500, description="Why denied, revoked or suspended")
    decided_at: datetime | None = utc_field()  # 办结, 告知承诺准予 or 不予批准: the on-time rate's end
    supplement_due: date | None = Field(default=None, description="容缺: when the owed materials are due")
    supplied_at: datetime | None = utc_field()
    reminded_on: date | None = Field(default=None, description="Day the deadline reminder went out")
    warned_on: date | None = Field(default=None, description="Day the promised-date early warning went out")


class CaseEvent(SQLModel, table=True):
    """Each status change of a case, for the progress query's history."""

    __tablename__ = "case_event"

    id: int | None = Field(default=None, primary_key=True)
    serial_no: str = Field(foreign_key="service_case.serial_no", index=True, max_length=80)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    status: str = Field(max_length=8)
    note: str | None = Field(default=None, max_length=200)
    actor: str | None = Field(default=None, max_length=40)


class SupplementWatch(SQLModel, table=True):
    """A 补正 notice's deadline being watched (the visit opened no case): reminded, supplied or lapsed."""

    __tablename__ = "supplement_watch"

    visit_id: int = Field(primary_key=True, foreign_key="visit.id")
    due: date
    state: str = Field(default="open", max_length=8, index=True, description="open | supplied | lapsed")
    reminded_on: date | None = None
    lapse_outcome: str | None = Field(default=None, max_length=8)
    closed_at: datetime | None = utc_field()
