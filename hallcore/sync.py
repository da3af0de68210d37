"""The city link's records (PROTOCOL.md, "The city link"): the envelope a hall publishes on
`hall/{hall}/sync/up/{stream}`, the acknowledgement on `hall/{hall}/sync/ack`, and one model per record kind.

Shared by the hall (which writes them into its outbox) and the city (which validates and stores them), so
both sides check the same contract. Records never carry plaintext personal data: identities are keyed
hashes under the *city's* identity key (`person_hash`), names are masked, staff are ids.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

HALL_CODE = r"^[0-9A-Z]{4}$"
HASH = r"^[0-9a-f]{64}$"


class Stream(StrEnum):
    """The streams of PROTOCOL.md; the topic's last level."""

    visits = "visits"
    cases = "cases"
    evaluations = "evaluations"
    rectifications = "rectifications"
    complaints = "complaints"
    device_health = "device_health"
    queue_snapshots = "queue_snapshots"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VisitRecord(_Record):
    """kind `visit.finished`: one visit ended at a window (stream visits)."""

    visit_id: int
    ticket: str = Field(max_length=8)
    service_date: date
    group: str = Field(max_length=32)
    item_code: str | None = Field(default=None, max_length=64)
    department: str | None = Field(default=None, max_length=60)
    window_id: str = Field(max_length=8)
    staff_id: str | None = Field(default=None, max_length=32)
    channel: str = Field(max_length=12)
    priority: str = Field(max_length=12)
    arrived_at: datetime
    called_at: datetime | None = None
    ended_at: datetime
    wait_s: int = Field(ge=0)
    service_s: int = Field(ge=0)
    outcome: str = Field(max_length=8)
    serial_no: str | None = Field(default=None, max_length=50)
    person_hash: str | None = Field(default=None, pattern=HASH)


class CaseRecord(_Record):
    """kind `case.status`: a case was opened or changed status (stream cases); the first has status 已受理."""

    serial_no: str = Field(max_length=50)
    item_code: str = Field(max_length=64)
    item_name: str | None = Field(default=None, max_length=100)
    department: str | None = Field(default=None, max_length=60)
    status: str = Field(max_length=8)
    at: datetime
    accepted_at: datetime
    promised_date: date
    decided_at: datetime | None = None
    delivery: str | None = Field(default=None, max_length=8)
    note: str | None = Field(default=None, max_length=200)
    person_hash: str | None = Field(default=None, pattern=HASH)


class EvaluationRecord(_Record):
    """kind `evaluation`: a rating (stream evaluations), GB/T 39046 code 1 = 非常满意 … 5 = 非常不满意."""

    evaluation_id: int
    visit_id: int
    serial_no: str | None = Field(default=None, max_length=50)
    kind: Literal["initial", "followup"] = "initial"
    level_gb: int = Field(ge=1, le=5)
    is_bad: bool
    indicators: dict[str, int] = Field(default_factory=dict)
    comment: str | None = Field(default=None, max_length=500)
    channel: str = Field(max_length=10)
    item_code: str | None = Field(default=None, max_length=64)
    department: str | None = Field(default=None, max_length=60)
    window_id: str | None = Field(default=None, max_length=8)
    staff_id: str | None = Field(default=None, max_length=32)
    at: datetime


class RectificationRecord(_Record):
    """kind `rectification`: a 差评 rectification opened or moved (stream rectifications)."""

    rectification_id: int
    evaluation_id: int
    visit_id: int
    department: str | None = Field(default=None, max_length=60)
    window_id: str = Field(max_length=8)
    state: str = Field(max_length=12)
    opened_at: datetime
    deadline: date
    closed_at: datetime | None = None
    on_time: bool | None = None


class ComplaintRecord(_Record):
    """kind `complaint`: a complaint or 办不成事 request recorded or moved (stream complaints)."""

    complaint_id: int
    kind: str = Field(max_length=16)
    source: str = Field(max_length=16)
    in_remit: bool | None = None
    state: str = Field(max_length=16)
    received_at: datetime
    due: date | None = None
    closed_at: datetime | None = None
    department: str | None = Field(default=None, max_length=60)
    person_hash: str | None = Field(default=None, pattern=HASH)


class DeviceHealthRecord(_Record):
    """kind `device.health`: the hall's devices at one moment (stream device_health), and what the hall serves."""

    at: datetime
    online: int = Field(ge=0)
    offline: int = Field(ge=0)
    problems: list[str] = Field(default_factory=list, max_length=500)  # device ids with a fault
    catalog_version: str | None = Field(default=None, max_length=64)
    calendar_version: str | None = Field(default=None, max_length=64)


class QueueGroup(_Record):
    group: str = Field(max_length=32)
    waiting: int = Field(ge=0)
    estimated_wait_min: int | None = Field(default=None, ge=0)


class QueueSnapshotRecord(_Record):
    """kind `queue.snapshot`: the queue and windows at one moment (stream queue_snapshots)."""

    at: datetime
    waiting: int = Field(ge=0)
    open_windows: int = Field(ge=0)
    groups: list[QueueGroup] = Field(default_factory=list, max_length=200)
    longest_wait_min: int | None = Field(default=None, ge=0)


RECORDS: dict[str, tuple[Stream, type[_Record]]] = {
    "visit.finished": (Stream.visits, VisitRecord),
    "case.status": (Stream.cases, CaseRecord),
    "evaluation": (Stream.evaluations, EvaluationRecord),
    "rectification": (Stream.rectifications, RectificationRecord),
    "complaint": (Stream.complaints, ComplaintRecord),
    "device.health": (Stream.device_health, DeviceHealthRecord),
    "queue.snapshot": (Stream.queue_snapshots, QueueSnapshotRecord),
}


class Envelope(BaseModel):
    """One message on `hall/{hall}/sync/up/{stream}`: `seq` is gapless per hall (the outbox's counter)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hall: Annotated[str, Field(pattern=HALL_CODE)]
    seq: int = Field(ge=1, lt=2**63)
    ts: datetime
    kind: str = Field(max_length=32)
    record: dict[str, Any]


class Ack(BaseModel):
    """`hall/{hall}/sync/ack`: the city durably holds every record of this hall with seq ≤ upto."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    upto: int = Field(ge=0, lt=2**63)
    ts: datetime


class RecordError(ValueError):
    """A record that breaks the contract; the message says which part (English, for the ingest log)."""


def parse(stream: str, raw: bytes) -> tuple[Envelope, _Record]:
    """Validate one message taken from `stream`: the envelope, the kind belongs to the stream, the record."""
    try:
        envelope = Envelope.model_validate_json(raw)
    except ValidationError as exc:
        raise RecordError(f"bad envelope: {exc.errors()[0]['msg']}") from None
    entry = RECORDS.get(envelope.kind)
    if entry is None:
        raise RecordError(f"unknown kind {envelope.kind!r}")
    if entry[0].value != stream:
        raise RecordError(f"kind {envelope.kind!r} does not belong to stream {stream!r}")
    try:
        record = entry[1].model_validate(envelope.record)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise RecordError(f"bad {envelope.kind} record at {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    return envelope, record


def envelope(hall: str, seq: int, ts: datetime, record: _Record) -> Envelope:
    """Wrap a record for publishing; the kind comes from the record's type."""
    kind = next(k for k, (_, model) in RECORDS.items() if isinstance(record, model))
    return Envelope(hall=hall, seq=seq, ts=ts, kind=kind, record=record.model_dump(mode="json"))


def stream_of(kind: str) -> Stream:
    """The stream a record kind travels on."""
    return RECORDS[kind][0]
