"""Visits and cases: the progress query (citizens), visits of a window, identity reveal (audited). The case
desk and department updates are api/case_desk.py and api/departments.py."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from typing import Any

from fastapi import APIRouter, Query
from pydantic import Field
from sqlmodel import col, select

from hallcore.commands import Identity
from hallcore.errors import NotFound
from hallserver.api.deps import Auth, HallDep
from hallserver.api.schemas import Body, RowId
from hallserver.models import Person, Visit
from hallserver.services import case_progress, people

router = APIRouter(tags=["办件 cases"])


class ProgressIn(Body):
    """A progress query by the applicant's ID (kept out of URLs and logs)."""

    identity: Identity


class RevealIn(Body):
    """Why the staff member needs the applicant's identity (written to the audit log)."""

    purpose: str = Field(min_length=2, max_length=200)


def visit_view(v: Visit, person: Person | None) -> dict[str, Any]:
    """A visit as staff see it: masked identity only."""
    return {
        "id": v.id,
        "ticket": v.ticket_number,
        "service_date": v.service_date.isoformat(),
        "window_id": v.window_id,
        "staff_id": v.staff_id,
        "staff_role": v.staff_role,
        "item_code": v.item_code,
        "outcome": v.outcome,
        "materials": json.loads(v.materials) if v.materials else [],
        "deadline": v.deadline.isoformat() if v.deadline else None,
        "reason": v.reason,
        "serial_no": v.serial_no,
        "wait_min": round(v.wait_s / 60, 1),
        "service_min": round(v.service_s / 60, 1),
        "applicant": {"person_id": person.id, "name": person.masked_name, "id": person.masked_id} if person else None,
    }


@router.get("/progress", summary="办件进度查询（按流水号）")
def progress_by_serial(hall: HallDep, serial_no: str = Query(min_length=8, max_length=80)) -> list[dict[str, Any]]:
    """Status, promised date and delivery of a case."""
    with hall.tx() as s:
        return [asdict(p) for p in case_progress.progress(s, hall.ctx, serial_no=serial_no)]


@router.post("/progress", summary="办件进度查询（按身份证）")
def progress_by_identity(body: ProgressIn, hall: HallDep) -> list[dict[str, Any]]:
    """Every case of the applicant, newest first."""
    with hall.tx() as s:
        return [asdict(p) for p in case_progress.progress(s, hall.ctx, id_number=body.identity.id_number)]


@router.get("/visits", summary="办事记录（按窗口和日期）")
def list_visits(
    hall: HallDep, principal: Auth, window_id: str = Query(pattern=r"^w[0-9]{2,3}$"), day: date | None = None
) -> list[dict[str, Any]]:
    """A window's visits of a day; staff see their own windows."""
    principal.require_window(window_id)
    with hall.tx() as s:
        rows = s.exec(
            select(Visit, Person)
            .join(Person, col(Person.id) == Visit.person_id, isouter=True)
            .where(Visit.window_id == window_id, Visit.service_date == (day or hall.ctx.today()))
            .order_by(col(Visit.id))
        ).all()
        return [visit_view(v, p) for v, p in rows]


@router.post("/people/{person_id}/identity", summary="查看申请人完整身份信息（须说明用途，记入审计日志）")
def reveal_identity(person_id: RowId, body: RevealIn, hall: HallDep, principal: Auth) -> dict[str, Any]:
    """The decrypted ID number and name, for the staff member who needs them; audited."""
    principal.require("staff", "chief", "manager", "admin")
    with hall.tx() as s:
        if s.get(Person, person_id) is None:
            raise NotFound("没有这位申请人的记录")
        revealed = people.reveal(s, hall.ctx, person_id, principal.username, body.purpose)
        return {
            "person_id": person_id,
            "id_number": revealed.id_number,
            "name": revealed.name,
            "id_kind": revealed.id_kind,
        }
