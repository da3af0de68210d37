"""Complaints and 办不成事 requests (000 §35–37, 002 §53): the one intake command every channel uses (the
window over REST, the kiosk's `complaint.submit` on the bus, the public phone page), and the Chinese labels."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from hallcore.commands import Command
from hallcore.documents import Document, When


class ComplaintKind(StrEnum):
    """What the citizen brings: a complaint, or a matter the hall could not get done (办不成事)."""

    complaint = "complaint"
    cannot_do = "cannot_do"


class Feedback(StrEnum):
    """The citizen's word when a complaint is closed."""

    satisfied = "satisfied"
    basic = "basic"
    unsatisfied = "unsatisfied"


KIND_LABELS = {ComplaintKind.complaint: "投诉", ComplaintKind.cannot_do: "办不成事反映"}
FEEDBACK_LABELS = {Feedback.satisfied: "满意", Feedback.basic: "基本满意", Feedback.unsatisfied: "不满意"}
IN_REMIT_DAYS = 5  # handled and answered within 5 working days
TRANSFER_DAYS = 2  # outside the hall's remit: passed to the competent department within 2 working days


class ComplaintSubmit(Command):
    """A complaint or 办不成事 request as the citizen gives it. Name and phone are optional (kept encrypted,
    shown masked); `written_reply` asks for the answer on paper."""

    kind: Literal["complaint", "cannot_do"]
    content: str = Field(min_length=5, max_length=1000, description="What happened, in the citizen's words")
    item_code: str | None = Field(default=None, max_length=40)
    name: str | None = Field(default=None, max_length=30)
    phone: str | None = Field(default=None, max_length=20)
    written_reply: bool = False


class ComplaintReplyDocument(Document):
    """书面答复 of a complaint or 办不成事 request (000 §37): printed on A4 from the console when the citizen
    asked for a written answer. The name is masked; the content is the citizen's own words."""

    title: str = "投诉（办不成事）书面答复"
    reference: str = Field(min_length=1)
    kind_label: str
    masked_name: str | None = None
    received_at: When | None = None
    content: str
    reply: str = Field(min_length=1)
    answered_at: When | None = None
    department: str | None = Field(default=None, description="The competent department it was passed to")


__all__ = [
    "FEEDBACK_LABELS",
    "IN_REMIT_DAYS",
    "KIND_LABELS",
    "TRANSFER_DAYS",
    "ComplaintKind",
    "ComplaintReplyDocument",
    "ComplaintSubmit",
    "Feedback",
]
