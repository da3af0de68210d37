"""The department's case desk over REST (console page /console/cases): list, open, advance a case, the
warning and overdue list, and the printable 不予批准决定书. Staff and chiefs see their department's cases."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Query

from hallserver.api.deps import Auth, HallDep
from hallserver.presentation import paperwork
from hallserver.services import case_deadlines, case_desk, cases
from hallserver.services.auth import Forbidden, Principal
from hallserver.services.cases import CaseUpdate

router = APIRouter(tags=["办件 cases"])


def department_scope(principal: Principal) -> str | None:
    """The department whose cases the caller may see and move (None: every case, for hall managers)."""
    if principal.role in ("manager", "admin"):
        return None
    if principal.role in ("chief", "staff") and principal.department:
        return principal.department
    raise Forbidden("您的账号无权查看办件")


@router.get("/cases", summary="部门办件台：本部门待办办件")
def list_cases(
    hall: HallDep,
    principal: Auth,
    status: str | None = Query(default=None, max_length=8),
    serial: str | None = Query(default=None, max_length=80, pattern=r"^[0-9A-Za-z]+$"),
) -> list[dict[str, Any]]:
    """Cases still to act on (or of one status, or by serial number prefix), oldest promise first."""
    scope = department_scope(principal)
    with hall.tx() as s:
        return [asdict(r) for r in case_desk.listing(s, hall.ctx, scope, status, serial)]


@router.get("/cases/watchlist", summary="超期办件与临期预警")
def watchlist(hall: HallDep, principal: Auth) -> dict[str, Any]:
    """Open cases past their promised date, and those due within the hall's warning days."""
    scope = department_scope(principal)
    with hall.tx() as s:
        return asdict(case_deadlines.watchlist(s, hall.ctx, scope))


@router.get("/cases/{serial_no}", summary="办件详情（含办理记录与可执行操作）")
def case_detail(serial_no: str, hall: HallDep, principal: Auth) -> dict[str, Any]:
    """One case of the caller's department."""
    scope = department_scope(principal)
    with hall.tx() as s:
        return asdict(case_desk.open_case(s, hall.ctx, serial_no, scope))


@router.post("/cases/{serial_no}/status", summary="推进办件：审查、不予批准、告知承诺准予、办结与送达")
def set_case_status(serial_no: str, body: CaseUpdate, hall: HallDep, principal: Auth) -> dict[str, Any]:
    """Move the case along (the same command as a department system's update); other moves are refused."""
    scope = department_scope(principal)
    with hall.tx() as s:
        case_desk.open_case(s, hall.ctx, serial_no, scope)  # not_found outside the caller's department
        case = cases.get_case(s, serial_no)
        cases.apply_update(s, hall.ctx, case, body, principal.username)
        return asdict(case_desk.open_case(s, hall.ctx, serial_no, scope))


@router.get("/cases/{serial_no}/decision", summary="不予批准决定书（打印）")
def decision(serial_no: str, hall: HallDep, principal: Auth) -> dict[str, Any]:
    """The written decision of a denied case, for the desk to print."""
    scope = department_scope(principal)
    with hall.tx() as s:
        case_desk.open_case(s, hall.ctx, serial_no, scope)
        doc = paperwork.decision(s, hall.ctx, cases.get_case(s, serial_no), hall.base_url)
        return doc.model_dump(mode="json")
