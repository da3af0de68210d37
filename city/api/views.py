"""The city's read API: every hall's live state, alerts across halls, reports by level / hall / department /
item, overdue lists, refused records; and the hall registry (admins register halls)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from city import monitor, registry, reports
from city.api.deps import Admin, CityDep, User
from city.partitions import SHANGHAI

router = APIRouter(tags=["城市监管 city"])


@router.get("/halls", summary="各大厅实时状态")
def halls(c: CityDep, _user: User) -> dict[str, Any]:
    """Queue, windows, devices, backlog and last record of every registered hall."""
    now = c.clock.now()
    return {"at": now.isoformat(), "halls": [h.as_dict() for h in monitor.live(c.engine, now)]}


@router.get("/alerts", summary="跨大厅告警")
def alerts(c: CityDep, _user: User) -> dict[str, Any]:
    """Silent halls, devices offline, long waits, refused records, overdue items."""
    now = c.clock.now()
    found = monitor.alerts(
        c.engine, now, now.astimezone(SHANGHAI).date(), c.settings.silent_after_min, c.settings.long_wait_min
    )
    return {"at": now.isoformat(), "alerts": [a.as_dict() for a in found]}


@router.get("/overdue", summary="跨大厅超期清单（办件、差评整改、投诉）")
def overdue(c: CityDep, _user: User, limit: int = Query(500, ge=1, le=5000)) -> dict[str, Any]:
    """Open items past due, oldest first."""
    today = c.clock.now().astimezone(SHANGHAI).date()
    return {"today": today.isoformat(), "items": [o.as_dict() for o in monitor.overdue(c.engine, today, limit)]}


@router.get("/reports", summary="统计报表（按层级、大厅、部门、事项）")
def report(
    c: CityDep,
    _user: User,
    month: str = Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM"),
    by: str = Query("level", pattern="^(level|hall|department|item)$"),
    level: str | None = Query(None),
    hall: str | None = Query(None, pattern=r"^[0-9A-Z]{4}$"),
    department: str | None = Query(None, max_length=60),
) -> dict[str, Any]:
    """Visits, waits, 好评率, 差评整改 and 限时办结 on-time rates for one month, from the daily rollups."""
    try:
        start, end = reports.month_range(month)
        today = c.clock.now().astimezone(SHANGHAI).date()
        rows = reports.report(c.engine, start, end, by, today, level=level, hall=hall, department=department)
    except reports.ReportError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"month": month, "by": by, "rows": [r.as_dict() for r in rows]}


@router.get("/rejected", summary="被拒收的记录（不含记录内容）")
def rejected(c: CityDep, _user: Admin, limit: int = Query(200, ge=1, le=2000)) -> dict[str, Any]:
    """The newest refused messages: time, topic, hall, seq and reason."""
    from sqlalchemy import select

    from city.db.schema import rejected as table

    with c.engine.connect() as conn:
        rows = conn.execute(select(table).order_by(table.c.last_at.desc(), table.c.id.desc()).limit(limit)).all()
    return {"items": [{**r._asdict(), "at": r.at.isoformat(), "last_at": r.last_at.isoformat()} for r in rows]}


class HallIn(BaseModel):
    """A hall or 24-hour point to register."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=60)
    level: str = Field(description="市/区/街道/社区, or the hall profile's level (区县级 …)")
    region_code: str = Field(pattern=r"^[0-9]{6}$")
    hall_id: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_\-]{1,30}$")
    code: str | None = Field(default=None, pattern=r"^[0-9A-Z]{4}$")
    parent_region: str | None = Field(default=None, pattern=r"^[0-9]{6}$")
    site_kind: str = Field(default="hall", pattern="^(hall|self_service_point)$")


@router.get("/registry", summary="已登记的大厅")
def registry_list(c: CityDep, _user: User) -> dict[str, Any]:
    """Every registered hall and point, with its code and bridge account."""
    return {"halls": [{**h.__dict__, "created_at": h.created_at.isoformat()} for h in registry.list_halls(c.engine)]}


@router.post("/registry", summary="登记大厅并分配编码（市级管理员）", status_code=201)
def registry_add(body: HallIn, c: CityDep, _user: Admin) -> dict[str, Any]:
    """Assign a hall code (idempotent on hall_id)."""
    try:
        entry = registry.assign_hall(c.engine, now=c.clock.now(), **body.model_dump())
    except registry.RegistryError as exc:
        raise HTTPException(422, str(exc)) from None
    return {**entry.__dict__, "created_at": entry.created_at.isoformat()}
