"""Hall rows → the city link's records (hallcore.sync): pure functions, no session, no clock.

Nothing personal leaves the hall in plaintext: identities become `person_hash` under the city's identity key,
free text (rating comments) has ID numbers and phone numbers masked, staff are ids."""

from __future__ import annotations

import json
import re
from datetime import datetime, tzinfo

from hallcore.identity import mask_id_numbers
from hallcore.sync import (
    CaseRecord,
    ComplaintRecord,
    EvaluationRecord,
    QueueGroup,
    QueueSnapshotRecord,
    RectificationRecord,
    VisitRecord,
)
from hallserver.models import CaseEvent, Complaint, Evaluation, Rectification, ServiceCase, Visit

# A mainland mobile or a landline with area code, inside free text, not part of a longer run of digits.
_PHONE_IN_TEXT = re.compile(
    r"(?<![0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9])|(?<![0-9])(0[0-9]{2,3})-?[0-9]{3,4}([0-9]{4})(?![0-9])"
)


def scrub(text: str | None, limit: int) -> str | None:
    """Free text fit for the city: ID numbers and phone numbers masked, cut to the record's limit."""
    if not text:
        return None
    masked = mask_id_numbers(text)
    masked = _PHONE_IN_TEXT.sub(_mask_phone, masked)
    return masked[:limit]


def _mask_phone(match: re.Match[str]) -> str:
    if match.group(1):
        return f"{match.group(1)}****{match.group(2)}"
    return f"{match.group(3)}-****{match.group(4)}"


def _cut(value: str | None, limit: int) -> str | None:
    return value[:limit] if value else value


def visit_record(visit: Visit, person_hash: str | None, channel: str, priority: str) -> VisitRecord:
    """visit.finished: one service at a window."""
    assert visit.id is not None
    return VisitRecord(
        visit_id=visit.id,
        ticket=visit.ticket_number,
        service_date=visit.service_date,
        group=visit.group_code,
        item_code=visit.item_code,
        department=_cut(visit.department, 60),
        window_id=visit.window_id,
        staff_id=visit.staff_id,
        channel=channel[:12],
        priority=priority[:12],
        arrived_at=visit.arrived_at,
        called_at=visit.called_at,
        ended_at=visit.ended_at,
        wait_s=max(0, visit.wait_s),
        service_s=max(0, visit.service_s),
        outcome=visit.outcome[:8],
        serial_no=visit.serial_no,
        person_hash=person_hash,
    )


def case_record(
    case: ServiceCase, event: CaseEvent, item_name: str | None, department: str | None, person_hash: str | None
) -> CaseRecord:
    """case.status: a case opened (已受理) or moved, as of one of its events."""
    return CaseRecord(
        serial_no=case.serial_no,
        item_code=case.item_code,
        item_name=_cut(item_name, 100),
        department=_cut(department, 60),
        status=event.status,
        at=event.at,
        accepted_at=case.accepted_at,
        promised_date=case.promised_date,
        decided_at=case.decided_at,
        delivery=case.delivery,
        note=scrub(event.note, 200),
        person_hash=person_hash,
    )


def evaluation_record(evaluation: Evaluation, visit: Visit) -> EvaluationRecord:
    """evaluation: a rating, with what it rates (never who rated)."""
    assert evaluation.id is not None and visit.id is not None
    indicators = json.loads(evaluation.indicators) if evaluation.indicators else {}
    return EvaluationRecord(
        evaluation_id=evaluation.id,
        visit_id=visit.id,
        serial_no=visit.serial_no,
        kind="followup" if evaluation.kind == "followup" else "initial",
        level_gb=evaluation.level_gb,
        is_bad=evaluation.is_bad,
        indicators={str(k): int(v) for k, v in indicators.items()},
        comment=scrub(evaluation.comment, 500),
        channel=evaluation.channel,
        item_code=visit.item_code,
        department=_cut(visit.department, 60),
        window_id=visit.window_id,
        staff_id=visit.staff_id,
        at=evaluation.created_at,
    )


def rectification_record(rect: Rectification, zone: tzinfo) -> RectificationRecord:
    """rectification: a 差评 rectification as it stands; on time when closed by its deadline."""
    assert rect.id is not None
    closed = rect.closed_at
    return RectificationRecord(
        rectification_id=rect.id,
        evaluation_id=rect.evaluation_id,
        visit_id=rect.visit_id,
        department=_cut(rect.department, 60),
        window_id=rect.window_id,
        state=rect.state[:12],
        opened_at=rect.opened_at,
        deadline=rect.deadline,
        closed_at=closed,
        on_time=None if closed is None else closed.astimezone(zone).date() <= rect.deadline,
    )


def complaint_record(complaint: Complaint) -> ComplaintRecord:
    """complaint: a complaint or 办不成事 request as it stands (the person is known by phone only: no hash)."""
    assert complaint.id is not None
    return ComplaintRecord(
        complaint_id=complaint.id,
        kind=complaint.kind[:16],
        source=complaint.channel[:16],
        in_remit=complaint.in_remit,
        state=complaint.state[:16],
        received_at=complaint.received_at,
        due=complaint.due_date,
        closed_at=complaint.closed_at,
        department=_cut(complaint.department, 60),
    )


def queue_snapshot(
    at: datetime, groups: list[tuple[str, int, int | None, int]], open_windows: int
) -> QueueSnapshotRecord:
    """queue.snapshot from (group, waiting, estimated wait, longest wait) per group."""
    return QueueSnapshotRecord(
        at=at,
        waiting=sum(g[1] for g in groups),
        open_windows=open_windows,
        groups=[QueueGroup(group=g, waiting=n, estimated_wait_min=est) for g, n, est, _ in groups][:200],
        longest_wait_min=max((g[3] for g in groups), default=None),
    )
