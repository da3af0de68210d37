"""What department systems (审批系统) sent: every inbound case update, applied or refused, for audit."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from hallserver.models.columns import UTCDateTime, utc_field


class DepartmentEvent(SQLModel, table=True):
    """One inbound status update (webhook or token call). Applied events are unique per department and
    event_id (`applied_key`); refused ones are kept too, with the refusal code, and never applied."""

    __tablename__ = "department_event"
    __table_args__ = (sa.Index("ix_department_event_lookup", "department", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    department: str = Field(max_length=32, description="The department code as sent (or as proven)")
    event_id: str | None = Field(default=None, max_length=80)
    applied_key: str | None = Field(
        default=None, max_length=120, unique=True, index=True, description="department:event_id"
    )
    serial_no: str | None = Field(default=None, max_length=80, index=True)
    status: str | None = Field(default=None, max_length=16)
    channel: str = Field(max_length=8, description="webhook | token | console")
    received_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    event_at: datetime | None = utc_field()
    outcome: str = Field(max_length=8, description="applied | refused")
    code: str | None = Field(default=None, max_length=32, description="The refusal's error code")
    body_sha256: str | None = Field(default=None, max_length=64, description="To tell a retry from a conflict")
