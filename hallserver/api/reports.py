"""Reports for managers and chiefs: by window, staff, item or department over a day, month, quarter or year."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from hallcore.errors import HallError
from hallserver.api.deps import Auth, HallDep
from hallserver.presentation import assessment, charts, excel
from hallserver.services import reports
from hallserver.services.auth import Principal

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
    format: Literal["json", "csv", "xlsx"] = "json",
) -> Any:
    """Visits, waiting and service times, 好评率, 差评 and rectification on-time rate. `xlsx` holds every
    dimension (a sheet each), the trend and, for a month, the 月考核 sheet."""
    principal.require("chief", "manager", "admin")
    when = day or hall.ctx.today()
    if format == "xlsx":
        return _xlsx(hall, principal, period, when, by)
    with hall.tx() as s:
        rows = _rows(s, hall, principal, period, when, by)
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


PERIOD_LABELS = {"day": "日报", "month": "月报", "quarter": "季报", "year": "年报"}
BY_LABELS = {"window": "按窗口", "staff": "按人员", "item": "按事项", "department": "按部门"}
FORMATS = {
    "visits": "0",
    "rated": "0",
    "bad": "0",
    "rectifications": "0",
    "good_rate": "0.0%",
    "rectified_on_time_rate": "0.0%",
}
Period = Literal["day", "month", "quarter", "year"]
By = Literal["window", "staff", "item", "department"]


def _rows(s: Any, hall: HallDep, principal: Principal, period: str, when: date, by: str) -> list[reports.ReportRow]:
    """The report rows this principal may see (a chief: only their department's line by department)."""
    rows = reports.build(s, hall.ctx, period, when, by)
    if principal.role == "chief" and by == "department":
        rows = [r for r in rows if r.key == principal.department]
    return rows


def _period_text(period: str, first: date, last: date) -> str:
    return f"{PERIOD_LABELS[period]}：{first.isoformat()} 至 {last.isoformat()}"


def _report_columns() -> list[excel.XlsxColumn]:
    return [
        excel.XlsxColumn(k, h, FORMATS.get(k, "0.0" if k.endswith("_min") else "General")) for k, h in HEADERS.items()
    ]


def _assessment_sheets(sheet: assessment.Assessment) -> list[excel.Sheet]:
    columns = [excel.XlsxColumn(c.key, c.header, c.number_format) for c in sheet.columns]
    meanings = [{"header": c.header, "meaning": c.meaning} for c in sheet.columns]
    return [
        excel.Sheet(
            f"月考核{sheet.month}",
            columns,
            sheet.rows,
            (
                f"考核月份：{sheet.month}（{sheet.first} 至 {sheet.last}），当月工作日{sheet.working_days}天。",
                "各列含义见“指标说明”工作表；出勤相关列据办件记录推算，不等同于考勤打卡。",
            ),
        ),
        excel.Sheet("指标说明", [excel.XlsxColumn("header", "指标"), excel.XlsxColumn("meaning", "含义")], meanings),
    ]


def _xlsx(hall: HallDep, principal: Principal, period: str, when: date, by: str) -> Response:
    first, last = reports.period_range(period, when)
    note = (_period_text(period, first, last), "好评率、按期整改率以小数存储，显示为百分比。")
    sheets = []
    with hall.tx() as s:
        for dim, label in BY_LABELS.items():
            rows = [asdict(r) for r in _rows(s, hall, principal, period, when, dim)]
            sheets.append(excel.Sheet(label, _report_columns(), rows, note))
        points = [asdict(p) for p in reports.trend(s, hall.ctx, period, when)]
        monthly = _assessment(s, hall, principal, when) if period == "month" else None
    trend_columns = [
        excel.XlsxColumn("label", "时段"),
        excel.XlsxColumn("visits", "办件量", "0"),
        excel.XlsxColumn("wait_mean_min", "平均等候（分）", "0.0"),
        excel.XlsxColumn("service_mean_min", "平均办理（分）", "0.0"),
    ]
    sheets.append(excel.Sheet("趋势", trend_columns, points, note[:1]))
    if monthly is not None:
        sheets += _assessment_sheets(monthly)
    body = excel.workbook(sheets, active=list(BY_LABELS).index(by))
    return _download(body, f"hallq-{period}-{first:%Y%m%d}.xlsx", XLSX)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(body: bytes, name: str, media_type: str) -> Response:
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _assessment(s: Any, hall: HallDep, principal: Principal, month: date) -> assessment.Assessment:
    sheet = assessment.build(s, hall.ctx, month)
    if principal.role == "chief":
        rows = [r for r in sheet.rows if r["department"] == principal.department]
        sheet = assessment.Assessment(sheet.month, sheet.first, sheet.last, sheet.working_days, rows)
    return sheet


@router.get("/assessment", summary="月考核表（按工作人员）")
def monthly_assessment(
    hall: HallDep,
    principal: Auth,
    month: str | None = Query(default=None, pattern=r"^[0-9]{4}-[0-9]{2}$", description="YYYY-MM; default this month"),
    format: Literal["json", "xlsx"] = "json",
) -> Any:
    """Per staff member: volumes, service time, 好评率, 差评, rectifications on time, served days."""
    principal.require("chief", "manager", "admin")
    try:
        first = assessment.month_of(month) if month else hall.ctx.today().replace(day=1)
    except ValueError:
        raise HallError("invalid", "月份格式应为 YYYY-MM，如 2026-11") from None
    with hall.tx() as s:
        sheet = _assessment(s, hall, principal, first)
    if format == "xlsx":
        return _download(excel.workbook(_assessment_sheets(sheet)), f"hallq-assessment-{sheet.month}.xlsx", XLSX)
    return {
        "hall": hall.ctx.profile.hall.name,
        "month": sheet.month,
        "from": sheet.first.isoformat(),
        "to": sheet.last.isoformat(),
        "working_days": sheet.working_days,
        "columns": [asdict(c) for c in sheet.columns],
        "rows": sheet.rows,
    }


@router.get("/charts", summary="统计图表（服务端生成的 SVG）")
def report_charts(
    hall: HallDep,
    principal: Auth,
    period: Period = "day",
    day: date | None = Query(default=None, description="Any day in the period; default today"),
    by: By = "window",
    top: int = Query(default=15, ge=1, le=50, description="Bars per chart: the busiest rows"),
) -> dict[str, Any]:
    """Bars of volumes, times and 好评率 for the top rows, and the period's trend line, as SVG strings."""
    principal.require("chief", "manager", "admin")
    when = day or hall.ctx.today()
    with hall.tx() as s:
        rows = _rows(s, hall, principal, period, when, by)[:top]
        points = reports.trend(s, hall.ctx, period, when)
    first, last = reports.period_range(period, when)
    span = f"{BY_LABELS[by]} · {first.isoformat()}" + (f" 至 {last.isoformat()}" if last != first else "")
    names = [r.name for r in rows]
    return {
        "period": period,
        "by": by,
        "bars": len(rows),
        "visits": charts.bar_chart(f"办件量（{span}）", names, {"办件量": [r.visits for r in rows]}, "件"),
        "times": charts.bar_chart(
            f"等候与办理时长（{span}）",
            names,
            {
                "平均等候": [r.wait_mean_min for r in rows],
                "90%等候": [r.wait_p90_min for r in rows],
                "平均办理": [r.service_mean_min for r in rows],
            },
            "分钟",
        ),
        "good_rate": charts.bar_chart(
            f"好评率（{span}）", names, {"好评率": [r.good_rate for r in rows]}, fmt=charts.percent, max_value=1.0
        ),
        "trend": charts.line_chart(
            f"趋势（{PERIOD_LABELS[period]}）",
            [p.label for p in points],
            {"办件量": [p.visits for p in points]},
            "件",
        ),
        "trend_times": charts.line_chart(
            f"平均时长趋势（{PERIOD_LABELS[period]}）",
            [p.label for p in points],
            {"平均等候": [p.wait_mean_min for p in points], "平均办理": [p.service_mean_min for p in points]},
            "分钟",
        ),
    }
