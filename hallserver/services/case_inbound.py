"""Status updates pushed by department systems (hallq never polls them): applied once per event_id,
and every refusal recorded (unknown serial, stale or replayed event, bad proof) — never applied."""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from hallcore.errors import Conflict, HallError, NotFound
from hallserver.models import DepartmentEvent, ServiceCase
from hallserver.services import cases
from hallserver.services.cases import CaseUpdate
from hallserver.services.context import HallContext
from hallserver.services.departments import Department

EVENT_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,79}$"


class DepartmentUpdate(CaseUpdate):
    """The body of a department's update: its own event id, the case, and the status with its fields."""

    event_id: str = Field(pattern=EVENT_ID, description="Unique per department; a repeat is never applied twice")
    serial_no: str = Field(min_length=8, max_length=80, pattern=r"^[0-9A-Za-z]+$")


def body_digest(body: bytes) -> str:
    """SHA-256 of the raw body: tells a retry of the same event from a different event under its id."""
    return hashlib.sha256(body).hexdigest()


def apply_event(
    session: Session, ctx: HallContext, dept: Department, event: DepartmentUpdate, channel: str, digest: str
) -> dict[str, object]:
    """Apply a department's update once; raise (to be recorded by `record_refusal`) when it must not be."""
    key = f"{dept.code}:{event.event_id}"
    first = session.exec(select(DepartmentEvent).where(DepartmentEvent.applied_key == key)).first()
    if first is not None:
        if first.body_sha256 == digest:
            raise Conflict(
                "duplicate_event",
                f"事件 {event.event_id} 已于 {first.received_at.astimezone(ctx.calendar.zone):%Y-%m-%d %H:%M:%S} "
                "处理，未重复执行",
                serial_no=first.serial_no,
                status=first.status,
            )
        raise Conflict("event_conflict", f"事件编号 {event.event_id} 已用于另一次更新：每个事件须使用新的 event_id")
    case = session.get(ServiceCase, event.serial_no)
    if case is None or not cases.belongs_to(ctx, case, dept.name):
        # The same answer for a serial that does not exist and one of another department.
        raise NotFound(f"没有流水号为 {event.serial_no} 的本部门办件", serial_no=event.serial_no)
    update = CaseUpdate.model_validate(event.model_dump(exclude={"event_id", "serial_no"}))
    cases.apply_update(session, ctx, case, update, f"{dept.code}")
    row = DepartmentEvent(
        department=dept.code,
        event_id=event.event_id,
        applied_key=key,
        serial_no=case.serial_no,
        status=event.status.value,
        channel=channel,
        received_at=ctx.now(),
        event_at=event.at,
        outcome="applied",
        body_sha256=digest,
    )
    try:
        with session.begin_nested():  # the same event delivered twice at once: the second one loses here
            session.add(row)
    except IntegrityError:
        raise Conflict(
            "duplicate_event", f"事件 {event.event_id} 已处理，未重复执行", serial_no=case.serial_no
        ) from None
    session.flush()
    return {"serial_no": case.serial_no, "status": case.status, "applied": True, "event_id": event.event_id}


def record_refusal(
    session: Session,
    ctx: HallContext,
    department: str | None,
    error: HallError,
    channel: str,
    event_id: str | None = None,
    serial_no: str | None = None,
    status: str | None = None,
    event_at: datetime | None = None,
    digest: str | None = None,
) -> None:
    """Keep a refused update for the audit (what was claimed, why refused); nothing of it is applied."""
    session.add(
        DepartmentEvent(
            department=_clip(department, 32) or "-",
            event_id=_clip(event_id, 80),
            serial_no=_clip(serial_no, 80),
            status=_clip(status, 16),
            channel=channel,
            received_at=ctx.now(),
            event_at=event_at,
            outcome="refused",
            code=error.code[:32],
            body_sha256=digest,
        )
    )


def _clip(value: str | None, n: int) -> str | None:
    """Claimed values are kept printable and short (they come from whoever called)."""
    if value is None:
        return None
    return "".join(ch for ch in str(value) if ch.isprintable())[:n] or None
