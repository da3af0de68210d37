"""Tables of evaluations (好差评): one rating per visit, and the rectification each bad rating opens."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from hallserver.models.columns import UTCDateTime, utc_field


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
