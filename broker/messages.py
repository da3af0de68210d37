"""One pydantic model per payload of the hall bus (PROTOCOL.md, contract v2), and their JSON Schemas.

Receivers are tolerant: unknown fields are ignored, so the contract can grow by adding fields."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hallcore.commands import Identity, IssueTicket, PositiveId, WindowCommand
from hallcore.complaints import ComplaintSubmit
from hallcore.contacts import ContactConsent
from hallcore.pickup import OpenPickup, PickupTaken

CONTRACT_VERSION = "2"
MAX_PAYLOAD_BYTES = 64 * 1024  # larger payloads are refused by the broker or answered `invalid`

# Integers on the wire are signed 64-bit: anything larger is `invalid`, never an overflow in the database.


def software_version() -> str:
    """The installed hallq version (announced beside the contract version)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("hallq")
    except PackageNotFoundError:
        return "0+unknown"


class Message(BaseModel):
    """Every payload: JSON, snake_case, with `ts` (RFC 3339 with offset, hall local time)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    ts: AwareDatetime

    def to_json(self) -> bytes:
        """UTF-8 JSON for the wire (Chinese kept readable; absent values are explicit nulls)."""
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False).encode("utf-8")


# --- availability, status, config ---


class ServerAvailability(Message):
    """`server/availability`: retained; the server's last will says offline."""

    state: Literal["online", "offline"]
    version: str


class DeviceAvailability(Message):
    """`device/{device}/availability`: retained; the device's last will says offline. `version` is the
    contract version the device speaks ("2"); `software` its own build (extension of v2)."""

    state: Literal["online", "offline"]
    kind: Literal["kiosk", "display", "printer", "evaluator", "caller", "cabinet"]  # cabinet: v2 extension
    version: str
    software: str | None = None

    @classmethod
    def of(cls, ts: datetime, state: str, kind: str) -> DeviceAvailability:
        """What this build of hallq announces: contract v2 and the installed version."""
        return cls(ts=ts, state=state, kind=kind, version=CONTRACT_VERSION, software=software_version())


def speaks_current_contract(version: str | None) -> bool:
    """True when an availability's `version` names this contract's major version."""
    return (version or "").split(".")[0] == CONTRACT_VERSION


class DeviceStatus(Message):
    """`device/{device}/status`: retained health; printers add paper and cover."""

    ok: bool = True
    paper: Literal["ok", "near_end", "out"] | None = None
    cover: Literal["closed", "open"] | None = None
    offline: bool | None = Field(default=None, description="Printer: it does not answer status queries")
    error: str | None = None
    doors_open: list[int] | None = Field(default=None, description="Pickup cabinet: doors standing open (v2 ext.)")
    occupied: list[int] | None = Field(default=None, description="Pickup cabinet: doors holding something")


class DeviceConfig(Message):
    """`device/{device}/config`: retained; the device's profile from firmware_config."""

    model_config = ConfigDict(extra="allow")

    schema_version: int
    hall: str
    hall_name: str
    device_id: str
    type: str
    bus_kind: str
    allowed_actions: list[str] = []
    broker: dict[str, Any]
    profile: dict[str, Any]


# --- requests and replies ---


class Request(Message):
    """`device/{device}/request/{action}`: a device asks the server; `request_id` is reused on retries.
    The sender is the topic's device; a legacy `device_id` naming another device is refused (`forbidden`)."""

    request_id: str = Field(min_length=8, max_length=64)
    device_id: str | None = Field(default=None, max_length=41, description="Legacy (v1); never trusted")

    @classmethod
    def new_id(cls) -> str:
        """A fresh request id."""
        return str(uuid.uuid4())


class TicketIssue(Request, IssueTicket):
    """ticket.issue: the IssueTicket command (an item or a group, optional identity and priority) in the bus's
    envelope. `channel` is set by the server from the device's kind."""


class AppointmentCheckin(Request):
    """appointment.checkin: by booking code or identity."""

    booking_code: str | None = Field(default=None, max_length=32)
    identity: Identity | None = None


class ProgressQuery(Request):
    """progress.query: by serial number or identity."""

    serial_no: str | None = Field(default=None, max_length=64)
    identity: Identity | None = None


class EvaluationSubmit(Request):
    """evaluation.submit: level 1..5 on the wire, 5 = 非常满意."""

    visit_id: PositiveId | None = None
    ticket: str | None = Field(default=None, max_length=8)
    level: int = Field(ge=1, le=5)
    indicators: dict[Annotated[str, Field(max_length=32)], Annotated[int, Field(ge=1, le=5)]] = Field(
        default={}, max_length=20
    )
    comment: str | None = Field(default=None, max_length=500)
    channel: Literal["evaluator", "kiosk", "qr", "sms"] = "evaluator"
    # Proof that the rater had the visit (extension of v2; required on a kiosk): the card that took the ticket,
    # or the visit's 6-digit rating code from the rating invitation.
    identity: Identity | None = None
    code: str | None = Field(default=None, pattern=r"^[0-9]{6}$")


class VisitCheck(Request):
    """visit.check (extension of v2): before a kiosk shows the five levels, the server checks that the rater
    had the visit (`identity` of the card that took the ticket, or `code`) and names its window, masked staff
    name and item."""

    visit_id: PositiveId | None = None
    ticket: str | None = Field(default=None, max_length=8)
    identity: Identity | None = None
    code: str | None = Field(default=None, pattern=r"^[0-9]{6}$")


class GuidePrint(Request):
    """guide.print (added in v1.2): print an item's material checklist (办事材料清单) on the kiosk's printer."""

    item_code: str = Field(min_length=1, max_length=64)


class VisitRecent(Request):
    """visit.recent (added in v1.2): a person's recent visits that can still be rated, by identity."""

    identity: Identity
    days: int = Field(default=7, ge=1, le=31)


class AssistRequest(Request):
    """assist.request (added in v1.2): a citizen at the kiosk asks for a staff member (呼叫工作人员)."""

    reason: str | None = Field(default=None, max_length=60, description="e.g. 老年人帮办, 设备故障")
    screen: str | None = Field(default=None, max_length=40, description="Where the citizen was stuck")
    elderly: bool = False


class GreenRequest(Request):
    """green.request (extension of v2): 绿色通道 for a reason the ID card cannot prove; staff confirm it on the
    floor. The identity of the card read at the kiosk stays with the server; the outcome comes back as a
    `notice` (green_confirmed with the ticket in `data`, green_declined, green_expired)."""

    reason: Literal["残疾人", "孕妇", "现役军人", "行动不便", "老年人"]
    identity: Identity


class GreenCancel(Request):
    """green.cancel (extension of v2): the citizen at the kiosk no longer waits for the green channel (取消, 首页,
    or the card taken away); the request this kiosk sent (`green_id` from green.request's reply) leaves the
    staff's floor panel. Only the kiosk that asked may cancel it (the kiosk is the topic's device)."""

    green_id: PositiveId


class AppointmentSlots(Request):
    """appointment.slots (added in v2.1): the days an item can be booked for, and one day's slots with free seats
    (`day` omitted: the first day that still has a free seat)."""

    item_code: str = Field(min_length=1, max_length=64)
    day: date | None = Field(default=None, description="The local date; omitted: the first with a free seat")


class AppointmentBook(Request):
    """appointment.book (added in v2.1): book one slot of an item for the person whose ID card was read; the
    booking code is printed on the kiosk's printer."""

    item_code: str = Field(min_length=1, max_length=64)
    slot_start: AwareDatetime = Field(description="A slot's start from appointment.slots, with its UTC offset")
    identity: Identity


class PickupOpen(Request, OpenPickup):
    """pickup.open (extension of v2, pickup cabinets): the identity read from the ID card on the cabinet's own
    reader; `data`: `doors` opened for that person, `items` (names), `masked_name`; error `not_found`."""


class PickupDone(Request, PickupTaken):
    """pickup.taken (extension of v2, pickup cabinets): a door it opened is closed again, `empty` or not;
    `data`: `collected` (bool), `serial_no`."""


class ContactConsentRequest(Request, ContactConsent):
    """contact.consent (extension of v2, notifications): a phone number the citizen typed on the kiosk's keypad
    after confirming the consent line, for a ticket just issued (`ticket`), a booking (`booking_code` with the
    booking's `identity`) or their cases (`identity`). A real-name ticket needs its identity too.
    `data`: `masked_phone`, `channel`, `subjects`, `message` (Chinese); errors `invalid` (bad number, no
    consent), `not_found`, `forbidden`."""


class ComplaintSubmitRequest(Request, ComplaintSubmit):
    """complaint.submit (extension of v2, complaints and 办不成事): a complaint or 办不成事 request the citizen
    typed on the kiosk. `data`: `reference`, `due` (ISO date), `message` (Chinese); errors `invalid`,
    `unknown_item`. Name and phone are stored encrypted and never echoed."""


class WindowAction(Request, WindowCommand):
    """window.*: a caller bound to that window acts on it; the fields are the console's window commands."""

    window_id: str = Field(pattern=r"^w[0-9]{2,3}$")


class ErrorBody(BaseModel):
    """A refusal: stable code, Chinese message."""

    code: str
    message: str
    data: dict[str, Any] = {}


class Reply(Message):
    """`device/{device}/reply`: exactly one answer per request_id (repeated verbatim on retries)."""

    request_id: str
    status: Literal["ok", "error"]
    data: dict[str, Any] | None = None
    error: ErrorBody | None = None


# --- jobs, prompts, events ---


class PrintJob(Message):
    """`device/{device}/job`: a structured document to print; never printed after expires_at."""

    job_id: str
    kind: Literal["ticket", "receipt", "notice", "guide", "booking"]
    document: dict[str, Any]
    expires_at: AwareDatetime


class EvaluatorPrompt(Message):
    """`device/{device}/prompt`: retained until answered (then cleared with an empty retained message)."""

    visit_id: int
    ticket: str
    window_id: str
    item_name: str | None = None
    staff_display_name: str | None = None


class DeviceEvent(Message):
    """`device/{device}/event`: e.g. a print job result."""

    type: str
    job_id: str | None = None
    status: Literal["printed", "failed"] | None = None
    error: str | None = None


class DeviceNotice(Message):
    """`device/{device}/notice` (server → device, added in v1.1): something the device's user must know now,
    e.g. `print_failed` — the kiosk shows the ticket on screen instead."""

    type: str
    job_id: str | None = None
    ticket: str | None = None
    message: str
    green_id: int | None = Field(default=None, description="green_* notices: the green.request it answers")
    data: dict[str, Any] | None = Field(default=None, description="green_confirmed: as ticket.issue's reply data")


# --- public state ---


class WindowState(Message):
    """`window/{window}/state`: retained; what the window display shows."""

    window_id: str
    name: str
    number: int
    status: Literal["open", "paused", "closed"]
    status_reason: str | None = None
    serving: str | None = None
    phase: Literal["called", "serving"] | None = Field(default=None, description="null when no ticket (v2)")
    called_at: AwareDatetime | None = Field(default=None, description="When the ticket at the window was called")
    staff_display_name: str | None = None
    staff_duties: str | None = Field(default=None, description="Shown on the window display (003 §37)")
    staff_contact: str | None = Field(default=None, description="Shown on the window display (003 §37)")
    groups: list[str]


class GroupQueue(BaseModel):
    """One queue group on the queue state."""

    group: str
    name: str
    prefix: str
    waiting: int
    estimated_wait_min: int | None


class QueueState(Message):
    """`queue/state`: retained waiting counts and estimates per group."""

    groups: list[GroupQueue]


class Call(Message):
    """`call`: one announcement. `text` is shown, `speech` is read aloud (digits one by one)."""

    call_id: str
    ticket: str
    window_id: str
    window_name: str
    text: str
    speech: str
    recall: bool = False


class RecentCalls(Message):
    """`calls/recent`: retained latest calls, newest first."""

    calls: list[Call]


class CatalogVersion(Message):
    """`catalog/version`: retained; kiosks refetch the catalog when it changes."""

    version: str
    etag: str
    url: str


# Request model per action (a new action: its model here, its handler, and its line in ALLOWED_ACTIONS).
REQUEST_MODELS: dict[str, type[Request]] = {
    "ticket.issue": TicketIssue,
    "appointment.checkin": AppointmentCheckin,
    "progress.query": ProgressQuery,
    "evaluation.submit": EvaluationSubmit,
    "guide.print": GuidePrint,
    "visit.recent": VisitRecent,
    "visit.check": VisitCheck,  # rating proof (extension of v2)
    "assist.request": AssistRequest,
    "contact.consent": ContactConsentRequest,  # notifications (extension of v2)
    "appointment.slots": AppointmentSlots,  # v2.1 extensions
    "appointment.book": AppointmentBook,
    "pickup.open": PickupOpen,  # pickup cabinet (extension of v2)
    "pickup.taken": PickupDone,
    "complaint.submit": ComplaintSubmitRequest,  # complaints and 办不成事 (extension of v2)
    "green.request": GreenRequest,  # 绿色通道 staff confirmation (extension of v2)
    "green.cancel": GreenCancel,
}

# Payload model per topic pattern (for the schema export and for tests that validate captured traffic).
PAYLOADS: dict[str, type[Message]] = {
    "server/availability": ServerAvailability,
    "device/{device}/availability": DeviceAvailability,
    "device/{device}/status": DeviceStatus,
    "device/{device}/config": DeviceConfig,
    **{f"device/{{device}}/request/{action}": model for action, model in REQUEST_MODELS.items()},
    "device/{device}/request/window.*": WindowAction,
    "device/{device}/reply": Reply,
    "device/{device}/job": PrintJob,
    "device/{device}/prompt": EvaluatorPrompt,
    "device/{device}/event": DeviceEvent,
    "device/{device}/notice": DeviceNotice,
    "window/{window}/state": WindowState,
    "queue/state": QueueState,
    "call": Call,
    "calls/recent": RecentCalls,
    "catalog/version": CatalogVersion,
}


def request_model(action: str) -> type[Request] | None:
    """The payload model of a request action, None for an unknown action."""
    if action.startswith("window."):
        return WindowAction
    return REQUEST_MODELS.get(action)


def export_schemas(out_dir: Path) -> list[Path]:
    """Write one JSON Schema per topic payload plus an index, for device makers."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    index = {}
    for pattern, model in PAYLOADS.items():
        stem = pattern.replace("/", "__").replace("{", "").replace("}", "").replace("*", "any")
        name = f"{stem}.schema.json"
        schema = model.model_json_schema(mode="validation")
        schema["$id"] = f"hallq/contract/v{CONTRACT_VERSION}/{name}"
        schema["description"] = f"hall/{{hall}}/{pattern} — " + (model.__doc__ or "").strip()
        path = out_dir / name
        path.write_text(json.dumps(schema, ensure_ascii=False, indent=2), encoding="utf-8")
        written.append(path)
        index[f"hall/{{hall}}/{pattern}"] = name
    (out_dir / "index.json").write_text(json.dumps(index, ensure_ascii=False, indent=2), encoding="utf-8")
    return written
