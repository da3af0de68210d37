"""Request and response bodies of the REST API (/api/v1)."""

from __future__ import annotations

from typing import Annotated, Any

from annotated_types import Ge, Lt
from pydantic import BaseModel, ConfigDict, Field

from hallcore.commands import FinishVisit, IssueTicket, ResumeTicket, TransferTicket, WithReason
from hallserver.models import WindowStatus

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

# `< 2**63` rather than `<= 2**63 - 1`: OpenAPI bounds are floats, and 2**63 is exact as one.
Int64 = Annotated[int, Ge(INT64_MIN), Lt(INT64_MAX + 1)]
"""Any integer the API takes: the databases store signed 64 bits, so anything wider is a validation error
(422 invalid), never an OverflowError deep in the driver."""

RowId = Annotated[int, Ge(1), Lt(INT64_MAX + 1)]
"""A database row id in a path, query or body: positive and within signed 64 bits."""


STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Body(BaseModel):
    """Request bodies: unknown fields are refused."""

    model_config = STRICT


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


# The commands as REST bodies: the same fields and rules as on the bus, and unknown fields refused (422) —
# the bus ignores them so that its contract can grow; a REST client is told it misspelt a field.
class IssueTicketIn(IssueTicket):
    __doc__ = IssueTicket.__doc__
    model_config = STRICT


class FinishVisitIn(FinishVisit):
    __doc__ = FinishVisit.__doc__
    model_config = STRICT


class TransferTicketIn(TransferTicket):
    __doc__ = TransferTicket.__doc__
    model_config = STRICT


class WithReasonIn(WithReason):
    __doc__ = WithReason.__doc__
    model_config = STRICT


class ResumeTicketIn(ResumeTicket):
    __doc__ = ResumeTicket.__doc__
    model_config = STRICT
