"""The structured documents a print job carries, one model per job `kind`; unknown fields are ignored."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

Kind = Literal["ticket", "receipt", "notice", "guide"]


def _when(value: Any) -> Any:
    """ISO strings become datetime (with a time) or date; anything else is kept as given text."""
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return text
    return value


When = Annotated[datetime | date | str, BeforeValidator(_when)]


class _Model(BaseModel):
    """Tolerant base: unknown fields are ignored, strings are stripped."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, populate_by_name=True)


class Material(_Model):
    """A material (申请材料): a plain string is accepted as just its name."""

    name: str = Field(min_length=1)
    note: str | None = None
    kind: str | None = Field(default=None, description="原件/复印件/原件和复印件/电子")
    copies: int | None = Field(default=None, ge=0, description="0: shown for inspection only (核验)")

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value


class Document(_Model):
    """Fields every printed document may have."""

    hall_name: str | None = None
    qr: str | None = Field(default=None, description="Payload of the QR code (a URL)")


class TicketDocument(Document):
    """排队小票: what the server's ticket.issue sends."""

    ticket: str = Field(min_length=1, max_length=12)
    group_name: str | None = None
    item_name: str | None = None
    priority: str | None = Field(default=None, description="normal / green / appointment")
    waiting_ahead: int | None = Field(default=None, ge=0)
    estimated_wait_min: int | None = Field(default=None, ge=0)
    issued_at: When | None = None
    masked_name: str | None = None
    notice: str | None = None


class ReceiptDocument(Document):
    """受理凭证 (003 §15): item, acceptor, materials, deadline, rejection, time, serial number, seal line."""

    item_name: str = Field(min_length=1)
    serial_no: str = Field(min_length=1, description="统一业务流水号")
    query_code: str | None = Field(default=None, description="查询码: with the serial, opens the progress page")
    acceptor: str | None = Field(default=None, validation_alias=AliasChoices("acceptor", "staff_name"))
    received_at: When | None = None
    masked_name: str | None = Field(default=None, validation_alias=AliasChoices("masked_name", "applicant"))
    materials_received: list[Material] = []
    materials_to_supplement: list[Material] = []
    supplement_deadline: When | None = None
    rejection_reason: str | None = None
    window_name: str | None = Field(default=None, validation_alias=AliasChoices("window_name", "window"))
    promised_date: When | None = None


class NoticeDocument(Document):
    """一次性告知书 (003 §15): every missing material at once, with the deadline."""

    item_name: str = Field(min_length=1)
    masked_name: str | None = Field(default=None, validation_alias=AliasChoices("masked_name", "applicant"))
    materials: list[Material] = Field(default=[], validation_alias=AliasChoices("materials", "missing_materials"))
    deadline: When | None = None
    window_name: str | None = Field(default=None, validation_alias=AliasChoices("window_name", "window"))
    staff: str | None = Field(default=None, validation_alias=AliasChoices("staff", "staff_name"))
    phone: str | None = None
    issued_at: When | None = None


class GuideDocument(Document):
    """办事材料清单: the material checklist of one item from the guide."""

    item_name: str = Field(min_length=1)
    conditions: list[str] = []
    materials: list[Material] = []
    time_limit: str | None = None
    fee: str | None = None
    location: str | None = None
    phone: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _texts(cls, value: Any) -> Any:
        if isinstance(value, dict):
            value = dict(value)
            for key in ("time_limit", "fee"):
                if isinstance(value.get(key), int | float):
                    value[key] = str(value[key])
            if isinstance(value.get("conditions"), str):
                value["conditions"] = [value["conditions"]]
        return value


class BookingDocument(Document):
    """预约凭条 (added in v2.1): the booking code, item, slot and when to check in."""

    code: str = Field(min_length=1, max_length=16)
    item_name: str = Field(min_length=1)
    slot_start: When | None = None
    slot_end: When | None = None
    checkin_from: When | None = None
    checkin_until: When | None = None
    masked_name: str | None = None
    notice: str | None = None


class DecisionDocument(Document):
    """不予批准决定书 (000 §11, 003 §16): a written denial with its reason, legal basis and the applicant's
    remedies. Printed from the department's case desk (A4), not a bus print job kind."""

    title: str = "不予批准决定书"
    document_no: str = Field(min_length=1)
    department: str = Field(min_length=1, description="The deciding department (seal line)")
    item_name: str = Field(min_length=1)
    serial_no: str = Field(min_length=1)
    masked_name: str | None = None
    accepted_at: When | None = None
    decided_at: When | None = None
    reason: str = Field(min_length=1)
    legal_basis: list[str] = []
    remedy: str = Field(min_length=1, description="申请行政复议或提起行政诉讼的途径和期限")


AnyDocument = TicketDocument | ReceiptDocument | NoticeDocument | GuideDocument | BookingDocument
DOCUMENTS: dict[str, type[AnyDocument]] = {
    "ticket": TicketDocument,
    "receipt": ReceiptDocument,
    "notice": NoticeDocument,
    "guide": GuideDocument,
    "booking": BookingDocument,
}


def parse_document(kind: str, data: dict[str, Any]) -> AnyDocument:
    """The document model of a job kind; ValueError (pydantic's) when the document cannot be used."""
    try:
        model = DOCUMENTS[kind]
    except KeyError:
        raise ValueError(f"unknown document kind: {kind!r}") from None
    return model.model_validate(data)
