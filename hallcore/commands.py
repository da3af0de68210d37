"""One command model per action, the same for every channel: the REST body, the bus request (wrapped in the
bus's envelope in broker/messages.py) and the service's input are these models — so REST and the bus accept
the same fields, checked by the same rules."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from annotated_types import Ge, Lt
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

# A row id: positive and within signed 64 bits, as the databases store it (`< 2**63`: OpenAPI bounds are floats,
# and 2**63 is exact as one where 2**63 - 1 is not).
PositiveId = Annotated[int, Ge(1), Lt(2**63)]


class Command(BaseModel):
    """Every command: text is trimmed; unknown fields are ignored (the bus contract grows by adding fields)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


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


class Identity(Command):
    """Who a command is for, and how that was checked. Travels only on device topics and HTTPS, never on
    public topics; the server keeps the ID number only as a keyed hash."""

    id_number: str = Field(min_length=15, max_length=18, examples=["440305199001011234"])
    name: str | None = Field(default=None, max_length=30)
    method: Literal["id_card", "face", "none"] = Field(description="How the identity was checked: always stated")


class IssueTicket(Command):
    """ticket.issue: an item or a group, optional identity and priority."""

    item_code: str | None = Field(default=None, max_length=64)
    group: str | None = Field(default=None, max_length=32)
    identity: Identity | None = None
    priority: Priority = Priority.normal
    priority_reason: str | None = Field(default=None, max_length=60)
    appointment_at: AwareDatetime | None = Field(default=None, description="With its UTC offset")
    channel: Literal["kiosk", "desk", "appointment", "mobile"] = Field(
        default="kiosk", description="Where the ticket was taken; on the bus the device's kind decides"
    )

    @model_validator(mode="after")
    def _target(self) -> IssueTicket:
        if not self.item_code and not self.group:
            raise ValueError("item_code or group is required")
        return self

    @property
    def id_number(self) -> str | None:
        """The ID number, if an identity was given."""
        return self.identity.id_number if self.identity else None

    @property
    def name(self) -> str | None:
        """The name on the ID card, if given."""
        return self.identity.name if self.identity else None

    @property
    def method(self) -> str:
        """How the identity was checked (`none` without one)."""
        return self.identity.method if self.identity else "none"


Reason = Annotated[str | None, Field(default=None, max_length=100)]


class FinishVisit(Command):
    """window.finish: the outcome; 补正 lists every missing material, 容缺受理 what is owed, 不予受理 why."""

    outcome: Outcome | None = Field(default=None, description="Required to finish; 转办 is window.transfer's")
    note: str | None = Field(default=None, max_length=200)
    item_code: str | None = Field(default=None, max_length=64, description="The item handled, if not on the ticket")
    materials: list[Annotated[str, Field(max_length=100)]] = Field(default=[], max_length=50)
    deadline: date | None = Field(default=None, description="When the materials are due")
    reason: Reason = None
    delivery: str | None = Field(default=None, max_length=8, description="窗口领取/邮寄/…")
    received: list[Annotated[str, Field(max_length=100)]] | None = Field(
        default=None,
        max_length=50,
        description="Materials actually handed in at the desk, ticked by staff: the 受理凭证 lists these as received "
        "and the guide's other required materials as still to hand in; omitted: every required material",
    )


class TransferTicket(Command):
    """window.transfer: to exactly one group or one window; the ticket keeps its number and place."""

    to_group: str | None = Field(default=None, max_length=32)
    to_window: str | None = Field(default=None, max_length=8)


class WithReason(Command):
    """window.pause / window.suspend: an optional reason shown to citizens or logged."""

    reason: Reason = None


class ResumeTicket(Command):
    """window.resume_ticket: which suspended ticket to take up again."""

    ticket_id: PositiveId | None = None


class WindowCommand(FinishVisit, TransferTicket, ResumeTicket):
    """Any window action's fields at once (the bus's one `window.*` request); each action reads its own."""
