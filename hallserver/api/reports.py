"""Reports for managers and chiefs: by window, staff, item or department over a day, month, quarter or year."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, replace
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
    "rectifications_due": "到期整改数",
    "rectified_on_time_rate": "按期整改率",
    "cases_due": "应办结件数",
    "cases_on_time": "按时办结件数",
    "on_time_rate": "按时办结率",
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
    first, last = reports.period_range(period, when)
    with hall.tx() as s:
        rows = _rows(s, hall, principal, period, when, by)
        on_time = reports.on_time(s, hall.ctx, first, last, _scope(principal))
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
        # 限时办结 of the hall (a chief: their department) for the cases promised within the period
        "on_time": {**asdict(on_time), "start": first.isoformat(), "end": last.isoformat(), "rate": on_time.rate},
    }


PERIOD_LABELS = {"day": "日报", "month": "月报", "quarter": "季报", "year": "年报"}
BY_LABELS = {"window": "按窗口", "staff": "按人员", "item": "按事项", "department": "按部门"}
FORMATS = {
    "visits": "0",
    "rated": "0",
    "bad": "0",
    "rectifications": "0",
    "rectifications_due": "0",
    "good_rate": "0.0%",
    "rectified_on_time_rate": "0.0%",
    "cases_due": "0",
    "cases_on_time": "0",
    "on_time_rate": "0.0%",
}
Period = Literal["day", "month", "quarter", "year"]
By = Literal["window", "staff", "item", "department"]


def _rows(s: Any, hall: HallDep, principal: Principal, period: str, when: date, by: str) -> list[reports.ReportRow]:
    """The report rows this principal may see (a chief: only their department's line by department)."""
    rows = reports.build(s, hall.ctx, period, when, by)
    if principal.role == "chief" and by == "department":
        rows = [r for r in rows if r.key == principal.department]
    return rows


def _scope(principal: Principal) -> str | None:
    """Whose cases a principal's hall-wide figures cover: a chief's department, else the whole hall."""
    return principal.department if principal.role == "chief" else None


def _period_text(period: str, first: date, last: date) -> str:
    return f"{PERIOD_LABELS[period]}：{first.isoformat()} 至 {last.isoformat()}"


def _report_columns() -> list[excel.XlsxColumn]:
    return [
        excel.XlsxColumn(k, h, FORMATS.get(k, "0.0" if k.endswith("_min") else "General")) for k, h in HEADERS.items()
    ]


def _assessment_title(hall: HallDep, sheet: assessment.Assessment) -> str:
    return f"{hall.ctx.profile.hall.name}工作人员{sheet.sheet_name}表"


def _assessment_period_line(sheet: assessment.Assessment) -> str:
    """考核期间, its days and working days, and whether it is over."""
    line = f"考核期间：{sheet.period_text}（{sheet.first} 至 {sheet.last}），工作日{sheet.working_days}天"
    if sheet.partial:
        line += f"；本期尚未结束，数据截至今日（已过工作日{sheet.worked_days}天），非全期结果"
    return line + "。"


def _assessment_sheets(hall: HallDep, sheet: assessment.Assessment) -> list[excel.Sheet]:
    columns = [excel.XlsxColumn(c.key, c.header, c.number_format) for c in sheet.columns]
    meanings = [{"header": c.header, "meaning": c.meaning} for c in (*sheet.columns, *assessment.DEPARTMENT_COLUMNS)]
    title = _assessment_title(hall, sheet)
    period = _assessment_period_line(sheet)
    hall_line = _on_time_line(sheet.hall_on_time)
    department_columns = [excel.XlsxColumn(c.key, c.header, c.number_format) for c in assessment.DEPARTMENT_COLUMNS]
    return [
        excel.Sheet(
            f"{sheet.sheet_name}{sheet.month}",
            columns,
            sheet.rows,
            (title, period, hall_line, "各列含义见“指标说明”工作表；出勤相关列据办件记录推算，不等同于考勤打卡。"),
        ),
        excel.Sheet(f"部门汇总{sheet.month}", department_columns, sheet.departments, (title, period, hall_line)),
        *(
            [
                excel.Sheet(
                    f"投诉{sheet.month}",
                    [excel.XlsxColumn("item", "项目"), excel.XlsxColumn("count", "件数", "0")],
                    sheet.complaints,
                    (title, period, "投诉及办不成事反映：本期收到的件数及其办理情况（全中心）。"),
                )
            ]
            if sheet.complaints is not None
            else []
        ),
        excel.Sheet("指标说明", [excel.XlsxColumn("header", "指标"), excel.XlsxColumn("meaning", "含义")], meanings),
    ]


def _on_time_line(figures: dict[str, Any]) -> str:
    rate = figures.get("on_time_rate")
    shown = f"{rate * 100:.1f}%" if rate is not None else "—（本期尚无到期办件）"
    return (
        f"限时办结：应办结{figures.get('cases_due', 0)}件，按时办结{figures.get('cases_on_time', 0)}件，"
        f"超期办结{figures.get('cases_late', 0)}件，超期未办结{figures.get('cases_overdue', 0)}件，按时办结率{shown}。"
    )


def _xlsx(hall: HallDep, principal: Principal, period: str, when: date, by: str) -> Response:
    first, last = reports.period_range(period, when)
    note = (_period_text(period, first, last), "好评率、按期整改率以小数存储，显示为百分比。")
    sheets = []
    with hall.tx() as s:
        for dim, label in BY_LABELS.items():
            rows = [asdict(r) for r in _rows(s, hall, principal, period, when, dim)]
            sheets.append(excel.Sheet(label, _report_columns(), rows, note))
        points = [asdict(p) for p in reports.trend(s, hall.ctx, period, when)]
        monthly = (
            _assessment(s, hall, principal, when, period) if period != "day" and first <= hall.ctx.today() else None
        )
    trend_columns = [
        excel.XlsxColumn("label", "时段"),
        excel.XlsxColumn("visits", "办件量", "0"),
        excel.XlsxColumn("wait_mean_min", "平均等候（分）", "0.0"),
        excel.XlsxColumn("service_mean_min", "平均办理（分）", "0.0"),
    ]
    sheets.append(excel.Sheet("趋势", trend_columns, points, note[:1]))
    if monthly is not None:
        sheets += _assessment_sheets(hall, monthly)
    body = excel.workbook(sheets, active=list(BY_LABELS).index(by))
    return _download(body, f"hallq-{period}-{first:%Y%m%d}.xlsx", XLSX)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(body: bytes, name: str, media_type: str) -> Response:
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _assessment(
    s: Any, hall: HallDep, principal: Principal, month: date, period: str = "month"
) -> assessment.Assessment:
    """The sheet this principal may see (a chief: their department's people, line and on-time figures)."""
    sheet = assessment.build(s, hall.ctx, month, period)
    if principal.role == "chief":
        rows = [r for r in sheet.rows if r["department"] == principal.department]
        departments = [d for d in sheet.departments if d["department"] == principal.department]
        own = reports.on_time(s, hall.ctx, sheet.first, sheet.last, principal.department)
        # the complaints ledger is the whole hall's, not the department's: not on a chief's sheet
        sheet = replace(
            sheet, rows=rows, departments=departments, hall_on_time=assessment.figures(own), complaints=None
        )
    return sheet


def _assessment_period(hall: HallDep, month: str | None, quarter: str | None, year: str | None) -> tuple[str, date]:
    """(period, its first day) from at most one of month=YYYY-MM, quarter=YYYY-Qn, year=YYYY; default this month."""
    given = [(p, v) for p, v in (("month", month), ("quarter", quarter), ("year", year)) if v]
    if len(given) > 1:
        raise HallError("invalid", "月份、季度、年度只能指定其中一项")
    if not given:
        return "month", hall.ctx.today().replace(day=1)
    period, text = given[0]
    parse = {"month": assessment.month_of, "quarter": assessment.quarter_of, "year": assessment.year_of}[period]
    try:
        if not re.fullmatch(PERIOD_PATTERNS[period], text):
            raise ValueError(text)
        first = parse(text)
    except ValueError:
        raise HallError("invalid", PERIOD_FORMATS[period]) from None
    if not 2000 <= first.year <= 2999:
        raise HallError("invalid", PERIOD_FORMATS[period])
    return period, first


PERIOD_PATTERNS = {"month": r"[0-9]{4}-[0-9]{2}", "quarter": r"[0-9]{4}-Q[1-4]", "year": r"[0-9]{4}"}
PERIOD_FORMATS = {
    "month": "月份格式应为 YYYY-MM，如 2026-11",
    "quarter": "季度格式应为 YYYY-Qn（n 为 1–4），如 2026-Q4",
    "year": "年度格式应为 YYYY，如 2026",
}


@router.get("/assessment", summary="月考核、季考评、年总评表（按工作人员、部门）")
def staff_assessment(
    hall: HallDep,
    principal: Auth,
    month: str | None = Query(default=None, max_length=16, description="YYYY-MM: the 月考核 of that month"),
    quarter: str | None = Query(default=None, max_length=16, description="YYYY-Qn (n 1–4): the 季考评"),
    year: str | None = Query(default=None, max_length=16, description="YYYY: the 年总评"),
    format: Literal["json", "xlsx"] = "json",
) -> Any:
    """Per staff member: volumes, service time, 好评率, 差评, rectifications on time, served days; per
    department the same summed, with the 限时办结 on-time rate. Default: this month. A period not yet over is
    `partial`; one not yet begun is refused."""
    principal.require("chief", "manager", "admin")
    period, first = _assessment_period(hall, month, quarter, year)
    with hall.tx() as s:
        sheet = _assessment(s, hall, principal, first, period)
    if format == "xlsx":
        body = excel.workbook(_assessment_sheets(hall, sheet))
        return _download(body, f"hallq-{period}-assessment-{sheet.month}.xlsx", XLSX)
    return {
        "hall": hall.ctx.profile.hall.name,
        "period": period,
        "title": _assessment_title(hall, sheet),
        "period_text": sheet.period_text,
        "period_line": _assessment_period_line(sheet),
        "month": sheet.month,
        "label": sheet.month,
        "from": sheet.first.isoformat(),
        "to": sheet.last.isoformat(),
        "partial": sheet.partial,
        "working_days": sheet.working_days,
        "worked_days": sheet.worked_days,
        "columns": [asdict(c) for c in sheet.columns],
        "rows": sheet.rows,
        "department_columns": [asdict(c) for c in assessment.DEPARTMENT_COLUMNS],
        "departments": sheet.departments,
        "on_time": sheet.hall_on_time,
        "complaints": sheet.complaints,  # the hall's complaints ledger; None on a chief's sheet
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
