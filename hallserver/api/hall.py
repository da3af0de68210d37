"""Hall routes: identity and hours, the calendar, queue state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query

from hallserver.api.deps import HallDep
from hallserver.services import estimates
from hallserver.services.estimates import GroupState

router = APIRouter(tags=["大厅 hall"])


@router.get("/hall", summary="大厅信息、办公时间与队列")
def hall_info(hall: HallDep) -> dict[str, Any]:
    """The hall's identity, opening hours, groups and whether it is open now."""
    ctx = hall.ctx
    now = ctx.now()
    return {
        **ctx.profile.hall.model_dump(mode="json"),
        "hours": ctx.profile.hours.model_dump(mode="json"),
        "groups": [g.model_dump(mode="json") for g in ctx.profile.groups],
        "windows": [
            w.model_dump(mode="json", include={"name", "floor", "groups", "kind"}) for w in ctx.profile.windows
        ],
        "tickets": {"green_staff_check": ctx.profile.tickets.green_staff_check},
        "now": now.isoformat(),
        "is_open": ctx.calendar.is_open(now),
        "next_opening": _iso(ctx.calendar.next_opening(now)),
        "catalog_version": ctx.catalog.version,
    }


@router.get("/calendar", summary="某一时刻是否办公、下次开门时间")
def calendar_status(
    hall: HallDep, at: datetime | None = Query(default=None, description="RFC 3339 with offset; default now")
) -> dict[str, Any]:
    """Opening status at an instant (default now) in the hall's time zone."""
    cal = hall.ctx.calendar
    t = cal.local(at) if at else hall.ctx.now()
    return {
        "at": t.isoformat(),
        "day_kind": cal.holidays.kind(t.date()).value,
        "holiday": cal.holidays.off.get(t.date()),
        "is_open": cal.is_open(t),
        "is_open_for_appointments": cal.is_open_for_appointments(t),
        "closes_at": _iso(cal.closing_time(t)),
        "next_opening": _iso(cal.next_opening(t)),
        "data_status": cal.covers(t.year),
    }


@router.get("/queue", summary="各队列等候人数与预计等候时间")
def queue(hall: HallDep) -> list[GroupState]:
    """Waiting, longest wait and estimated wait for every group today."""
    with hall.tx() as s:
        return estimates.queue_state(s, hall.ctx)


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None
