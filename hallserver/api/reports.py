"""Reports for managers and chiefs: by window, staff, item or department over a day, month, quarter or year."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from hallserver.api.deps import Auth, HallDep
from hallserver.services import reports

router = APIRouter(prefix="/reports", tags=["统计 reports"])

HEADERS = {
    "key": "编码",
    "name": "名称",
    "visits": "办件量",
    "wait_mean_min": "平均等候（分）",
    "wait_p90_min": "90%等候（分）",
    "service_mean_min": "平均办理（分）",
    "service_p90_min": "90%办理（分）",
    "rated": "评价数",
    "good_rate": "好评率",
    "bad": "差评数",
    "rectifications": "整改数",
    "rectified_on_time_rate": "按期整改率",
}


@router.get("", summary="统计报表（日/月/季/年，按窗口/人员/事项/部门）")
def report(
    hall: HallDep,
    principal: Auth,
    period: Literal["day", "month", "quarter", "year"] = "day",
    day: date | None = Query(default=None, description="Any day in the period; default today"),
    by: Literal["window", "staff", "item", "department"] = "window",
    format: Literal["json", "csv"] = "json",
) -> Any:
    """Visits, waiting and service times, 好评率, 差评 and rectification on-time rate."""
    principal.require("chief", "manager", "admin")
    when = day or hall.ctx.today()
    with hall.tx() as s:
        rows = reports.build(s, hall.ctx, period, when, by)
    if principal.role == "chief" and by == "department":
        rows = [r for r in rows if r.key == principal.department]
    first, last = reports.period_range(period, when)
    if format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(HEADERS))
        buffer.write(",".join(HEADERS.values()) + "\n")
        writer.writerows(asdict(r) for r in rows)
        name = f"hallq-{by}-{period}-{first:%Y%m%d}.csv"
        return Response(
            "\ufeff" + buffer.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return {
        "period": period,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "by": by,
        "rows": [asdict(r) for r in rows],
    }
