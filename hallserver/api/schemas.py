"""Request and response bodies of the REST API (/api/v1)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from annotated_types import Ge, Lt
from pydantic import BaseModel, ConfigDict, Field

from hallserver.models import Outcome, Priority, Ticket, WindowStatus
from hallserver.services.context import HallContext
from hallserver.services.lifecycle import STATE_LABELS
from hallserver.services.visits import FinishDetails
from hallserver.services.windows import WindowView

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

# `< 2**63` rather than `<= 2**63 - 1`: OpenAPI bounds are floats, and 2**63 is exact as one.
Int64 = Annotated[int, Ge(INT64_MIN), Lt(INT64_MAX + 1)]
"""Any integer the API takes: the databases store signed 64 bits, so anything wider is a validation error
(422 invalid), never an OverflowError deep in the driver."""

RowId = Annotated[int, Ge(1), Lt(INT64_MAX + 1)]
"""A database row id in a path, query or body: positive and within signed 64 bits."""


class Body(BaseModel):
    """Request bodies: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Identity(Body):
    """Who takes the ticket. The ID number is only hashed; it is never stored or returned."""

    id_number: str = Field(min_length=15, max_length=18, examples=["440305199001011234"])
    name: str | None = Field(default=None, max_length=30)
    method: str = Field(default="id_card", pattern="^(id_card|face|none)$")


class IssueIn(Body):
    """ticket.issue: an item or a group, optional identity and priority."""

    item_code: str | None = Field(default=None, max_length=64)
    group: str | None = Field(default=None, max_length=32)
    identity: Identity | None = None
    priority: Priority = Priority.normal
    priority_reason: str | None = Field(default=None, max_length=60)
    appointment_at: datetime | None = None
    channel: str = Field(default="kiosk", pattern="^(kiosk|desk|appointment|mobile)$")


class TicketOut(BaseModel):
    """A ticket as the API shows it: no identity, a masked name at most."""

    id: int
    number: str
    group: str
    item_code: str | None
    item_name: str | None
    priority: str
    state: str
    state_label: str
    issued_at: datetime
    window_id: str | None
    target_window_id: str | None
    call_count: int
    masked_name: str | None
    outcome: str | None

    @classmethod
    def of(cls, t: Ticket, ctx: HallContext) -> TicketOut:
        """Build from a ticket row, times in the hall's zone."""
        return cls(
            id=t.id or 0,
            number=t.number,
            group=t.group_code,
            item_code=t.item_code,
            item_name=ctx.entry_name(t.item_code) if t.item_code else None,
            priority=t.priority,
            state=t.state,
            state_label=STATE_LABELS[t.state],  # type: ignore[index]
            issued_at=t.issued_at.astimezone(ctx.calendar.zone),
            window_id=t.window_id,
            target_window_id=t.target_window_id,
            call_count=t.call_count,
            masked_name=t.masked_name,
            outcome=t.outcome,
        )


class IssueOut(BaseModel):
    """What the kiosk prints and shows after ticket.issue."""

    ticket: TicketOut
    group_name: str
    waiting_ahead: int
    estimated_wait_min: int | None


class CallOut(BaseModel):
    """Result of call-next: the window and the ticket called (null when nobody waits)."""

    window: WindowView
    ticket: TicketOut | None
    message: str


class ActionOut(BaseModel):
    """Result of a window action on its current ticket."""

    window: WindowView
    ticket: TicketOut


class FinishIn(Body):
    """Finish the current visit: 补正 lists every missing material, 容缺受理 what is owed, 不予受理 why."""

    outcome: Outcome
    note: str | None = Field(default=None, max_length=200)
    item_code: str | None = Field(default=None, max_length=64, description="The item handled, if not on the ticket")
    materials: list[str] = Field(default=[], max_length=50)
    deadline: date | None = None
    reason: str | None = Field(default=None, max_length=200)
    delivery: str | None = Field(default=None, max_length=8)

    def details(self) -> FinishDetails:
        """As the service takes them."""
        return FinishDetails(tuple(self.materials), self.deadline, self.reason, self.delivery, self.item_code)


class TransferIn(Body):
    """Transfer the current ticket to exactly one group or window."""

    to_group: str | None = Field(default=None, max_length=32)
    to_window: str | None = Field(default=None, max_length=8)


class ReasonIn(Body):
    """An optional reason shown to citizens or logged."""

    reason: str | None = Field(default=None, max_length=100)


class ResumeTicketIn(Body):
    """Which suspended ticket to take up again."""

    ticket_id: RowId


class GroupsIn(Body):
    """A manager's new set of groups for a window."""

    groups: list[str] = Field(min_length=1, max_length=30)


class StatusIn(Body):
    """A manager opens, pauses or closes a window."""

    status: WindowStatus
    reason: str | None = Field(default=None, max_length=100)


class StaffIn(Body):
    """Who holds the window now: the A or the B role."""

    role: str = Field(pattern="^(A|B)$")


class ErrorOut(BaseModel):
    """Every error: a stable code, a Chinese message, and data where useful."""

    code: str
    message: str
    data: dict[str, Any] = {}


class ErrorEnvelope(BaseModel):
    """The body of every error response."""

    error: ErrorOut
