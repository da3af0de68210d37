"""月考核, 季考评 and 年总评: the staff assessment sheets a hall manager prints and sends to the departments
(004 §39 “月考核、季考评、年总评”). A quarter or a year holds the same indicators as the month, summed over its
months, plus a per-department summary with the 限时办结 on-time rate; a period not yet over is marked partial.

Every figure is computed from what the system records, and each column says how. Attendance is NOT
recorded by this system (no clock-in): the "served days" and first/last service times are what the
visit records show, and the sheet says so rather than pretending to be an attendance register."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from firmware_config.hall import AccessRole
from hallcore.errors import HallError
from hallserver.models import Outcome, Rectification, Visit
from hallserver.services import complaints, reports
from hallserver.services.case_deadlines import OnTimeFigures
from hallserver.services.context import HallContext
from hallserver.services.reports import period_range


@dataclass(frozen=True)
class Column:
    """A column of the sheet: key, header, what it means, and its Excel number format."""

    key: str
    header: str
    meaning: str
    number_format: str = "General"


COLUMNS = (
    Column("name", "姓名", "工作人员姓名（大厅配置）"),
    Column("department", "所属部门", "派驻或所属部门"),
    Column("windows", "窗口（A/B角）", "大厅配置中其担任A角或B角的窗口"),
    Column("visits", "办件量", "本月由其办理的服务次数（含咨询，转办前的一段也计一次）", "0"),
    Column("completed", "办结受理", "结果为当场办结、受理或容缺受理的次数", "0"),
    Column("supplements", "补正", "出具一次性告知（补正）的次数", "0"),
    Column("consults", "咨询", "结果为咨询的次数", "0"),
    Column("service_mean_min", "平均办理时长（分）", "开始办理到办结的平均分钟数", "0.0"),
    Column("rated", "评价数", "本月办件收到的首次评价数", "0"),
    Column("good_rate", "好评率", "非差评（非常满意、满意、基本满意）占评价数的比例", "0.0%"),
    Column("bad", "差评数", "不满意和非常不满意的评价数", "0"),
    Column("rect_on_time", "按期整改", "本月差评的整改单中，在期限内完成整改的数量", "0"),
    Column("rect_late", "超期整改", "整改晚于期限完成，或已过期限仍未整改的数量", "0"),
    Column("rect_pending", "整改中", "尚未整改且未到期限的数量", "0"),
    Column("served_days", "有办件天数", "本月有办件记录的天数（据办件记录推算，非考勤打卡）", "0"),
    Column("working_days", "当月工作日", "大厅日历中本月的工作日（含调休上班日）", "0"),
    Column("first_call_avg", "平均首次叫号", "有办件的日子里首次叫号时刻的平均值（据办件记录推算）"),
    Column("last_end_avg", "平均末次办结", "有办件的日子里最后一件办结时刻的平均值（据办件记录推算）"),
)


SHEET_NAMES = {"month": "月考核", "quarter": "季考评", "year": "年总评"}
_SPAN = {"month": ("本月", "当月"), "quarter": ("本季度", "本季度"), "year": ("本年度", "本年度")}


def columns_for(period: str) -> tuple[Column, ...]:
    """The month's columns, their words said of a quarter or a year."""
    this, whole = _SPAN[period]

    def say(text: str) -> str:
        return text.replace("本月", this).replace("当月", whole)

    return tuple(Column(c.key, say(c.header), say(c.meaning), c.number_format) for c in COLUMNS)


DEPARTMENT_COLUMNS = (
    Column("department", "部门", "派驻或所属部门"),
    Column("staff", "人数", "本期有办件或在岗配置的该部门工作人员数", "0"),
    Column("visits", "办件量", "该部门工作人员的服务次数", "0"),
    Column("rated", "评价数", "首次评价数", "0"),
    Column("good_rate", "好评率", "非差评占评价数的比例", "0.0%"),
    Column("bad", "差评数", "差评数", "0"),
    Column("cases_due", "应办结件数", "承诺办结日在本期内的办件（中止、视为撤回的不计）", "0"),
    Column("cases_on_time", "按时办结", "在承诺办结日当天或之前办结（或作出决定）的件数", "0"),
    Column("cases_late", "超期办结", "晚于承诺办结日办结的件数", "0"),
    Column("cases_overdue", "超期未办结", "已过承诺办结日仍未办结的件数", "0"),
    Column("on_time_rate", "按时办结率", "按时办结 ÷（按时办结 + 超期办结 + 超期未办结）", "0.0%"),
)


# complaints.month_figures' keys, as the sheet says them (a key not listed here is shown as it comes)
COMPLAINT_LABELS = {
    "received": "收到投诉及办不成事反映（件）",
    "complaints": "其中：投诉",
    "cannot_do": "其中：办不成事反映",
    "in_remit": "属本中心职责",
    "out_of_remit": "转有关部门办理",
    "answered": "已答复",
    "on_time": "按时答复",
    "overdue": "超期（未按时答复）",
    "closed": "已办结",
    "satisfied": "群众反馈：满意",
    "basic": "群众反馈：基本满意",
    "unsatisfied": "群众反馈：不满意",
}


@dataclass(frozen=True)
class Assessment:
    """One period's sheet: per staff member, and per department with the on-time rate."""

    month: str  # the period's label: "2026-11", "2026-Q4" or "2026"
    first: date
    last: date
    working_days: int
    rows: list[dict[str, Any]]
    columns: tuple[Column, ...] = COLUMNS
    period: str = "month"
    partial: bool = False  # the period is not over yet: figures so far
    worked_days: int = 0  # working days from its first day up to today (all of them when it is over)
    departments: list[dict[str, Any]] = field(default_factory=list)
    hall_on_time: dict[str, Any] = field(default_factory=dict)  # the hall's 限时办结 figures
    complaints: list[dict[str, Any]] | None = None  # the hall's complaints ledger: [{"item", "count"}]

    @property
    def sheet_name(self) -> str:
        return SHEET_NAMES[self.period]

    @property
    def period_text(self) -> str:
        """考核期间 in words: 2026年11月, 2026年第四季度, 2026年度."""
        if self.period == "month":
            return f"{self.first.year}年{self.first.month}月"
        if self.period == "quarter":
            return f"{self.first.year}年第{'一二三四'[(self.first.month - 1) // 3]}季度"
        return f"{self.first.year}年度"


def month_of(text: str) -> date:
    """ "2026-11" → 2026-11-01 (ValueError when malformed)."""
    year, month = text.split("-")
    return date(int(year), int(month), 1)


def quarter_of(text: str) -> date:
    """ "2026-Q4" → 2026-10-01 (ValueError when malformed or not Q1–Q4)."""
    year, quarter = text.upper().split("-Q")
    if quarter not in ("1", "2", "3", "4"):
        raise ValueError(text)
    return date(int(year), 3 * int(quarter) - 2, 1)


def year_of(text: str) -> date:
    """ "2026" → 2026-01-01 (ValueError when malformed)."""
    if len(text) != 4 or not text.isdigit():
        raise ValueError(text)
    return date(int(text), 1, 1)


def label_of(period: str, first: date) -> str:
    if period == "month":
        return f"{first:%Y-%m}"
    if period == "quarter":
        return f"{first.year}-Q{(first.month - 1) // 3 + 1}"
    return f"{first.year}"


def build(session: Session, ctx: HallContext, month: date, period: str = "month") -> Assessment:
    """The 月考核/季考评/年总评 of every window staff member (and anyone else who served) for the period
    containing `month`. Raises HallError for a period that has not begun."""
    if period not in SHEET_NAMES:
        raise HallError("invalid", "考核周期须为：month（月）、quarter（季）、year（年）")
    first, last = period_range(period, month)
    today = ctx.today()
    if first > today:
        raise HallError("invalid", f"{label_of(period, first)}尚未开始，无法考核")
    working = _working_days(ctx, first, last)
    days = _days(session, ctx, first, last)
    rects = _rectifications(session, ctx, first, last)
    people = [s for s in ctx.profile.staff if s.role in (AccessRole.staff, AccessRole.chief)]
    ids = [s.id for s in people] + sorted((set(days) | set(rects)) - {s.id for s in people})
    rows = [_row(ctx, staff_id, days.get(staff_id, {}), rects.get(staff_id, []), working) for staff_id in ids]
    partial = last >= today
    return Assessment(
        label_of(period, first),
        first,
        last,
        working,
        rows,
        columns_for(period),
        period,
        partial,
        _working_days(ctx, first, min(last, today)),
        _departments(session, ctx, first, last, rows),
        figures(reports.on_time(session, ctx, first, last)),
        complaint_lines(complaints.month_figures(session, ctx, first, min(last, today))),
    )


def complaint_lines(counts: dict[str, int]) -> list[dict[str, Any]]:
    """The complaints ledger's figures for the period as labelled lines, in the ledger's order."""
    return [{"item": COMPLAINT_LABELS.get(key, key), "count": count} for key, count in counts.items()]


def _working_days(ctx: HallContext, first: date, last: date) -> int:
    return sum(1 for i in range((last - first).days + 1) if ctx.calendar.holidays.is_working_day(first + timedelta(i)))


def figures(f: OnTimeFigures) -> dict[str, Any]:
    return {
        "cases_due": f.due,
        "cases_on_time": f.on_time,
        "cases_late": f.late,
        "cases_overdue": f.open_overdue,
        "on_time_rate": f.rate,
    }


def _departments(
    session: Session, ctx: HallContext, first: date, last: date, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per department of the staff rows: their volumes and ratings summed, and the department's 限时办结."""
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["department"]:
            by[row["department"]].append(row)
    out = []
    for department, members in sorted(by.items()):
        rated, bad = sum(r["rated"] for r in members), sum(r["bad"] for r in members)
        out.append(
            {
                "department": department,
                "staff": len(members),
                "visits": sum(r["visits"] for r in members),
                "rated": rated,
                "good_rate": round((rated - bad) / rated, 4) if rated else None,
                "bad": bad,
                **figures(reports.on_time(session, ctx, first, last, department)),
            }
        )
    return out


def _days(session: Session, ctx: HallContext, first: date, last: date) -> dict[str, dict[date, dict[str, Any]]]:
    """staff → day → that day's counts, sums and first/last instants (one grouped query)."""
    v = Visit.__table__  # type: ignore[attr-defined]

    def count_if(condition: Any) -> Any:
        return sa.func.sum(sa.case((condition, 1), else_=0))

    done = (Outcome.completed.value, Outcome.accepted.value, Outcome.rongque.value)
    query = (
        sa.select(
            v.c.staff_id,
            v.c.service_date,
            sa.func.count(),
            sa.func.sum(v.c.service_s),
            count_if(v.c.outcome.in_(done)),
            count_if(v.c.outcome == Outcome.supplement.value),
            count_if(v.c.outcome == Outcome.consulted.value),
            sa.func.count(v.c.rating_gb),
            count_if(v.c.rating_gb >= 4),
            sa.func.min(v.c.called_at),
            sa.func.max(v.c.ended_at),
        )
        .where(v.c.service_date.between(first, last), v.c.staff_id.is_not(None))
        .group_by(v.c.staff_id, v.c.service_date)
    )
    out: dict[str, dict[date, dict[str, Any]]] = defaultdict(dict)
    zone = ctx.calendar.zone
    for staff, day, n, service, completed, supplements, consults, rated, bad, first_call, last_end in session.execute(
        query
    ).all():
        out[staff][day] = {
            "visits": int(n),
            "service_s": int(service or 0),
            "completed": int(completed or 0),
            "supplements": int(supplements or 0),
            "consults": int(consults or 0),
            "rated": int(rated or 0),
            "bad": int(bad or 0),
            "first_call": _local(first_call, zone),
            "last_end": _local(last_end, zone),
        }
    return out


def _local(value: Any, zone: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # an aggregate some drivers hand back untyped
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone)


def _rectifications(session: Session, ctx: HallContext, first: date, last: date) -> dict[str, list[str]]:
    """staff → the outcome of each rectification opened this month: on_time | late | pending."""
    zone = ctx.calendar.zone
    start = datetime.combine(first, time.min, zone)
    end = datetime.combine(last + timedelta(days=1), time.min, zone)
    today = ctx.today()
    out: dict[str, list[str]] = defaultdict(list)
    for r in session.exec(
        select(Rectification).where(Rectification.opened_at >= start, col(Rectification.opened_at) < end)
    ).all():
        if r.staff_id is None:
            continue
        if r.rectified_at is not None:
            out[r.staff_id].append("on_time" if r.rectified_at.astimezone(zone).date() <= r.deadline else "late")
        else:
            out[r.staff_id].append("late" if r.deadline < today else "pending")
    return out


def _mean_clock(instants: list[datetime]) -> str | None:
    if not instants:
        return None
    seconds = sum(t.hour * 3600 + t.minute * 60 + t.second for t in instants) / len(instants)
    return f"{int(seconds // 3600):02d}:{int(seconds % 3600 // 60):02d}"


def _row(
    ctx: HallContext, staff_id: str, days: dict[date, dict[str, Any]], rects: list[str], working: int
) -> dict[str, Any]:
    try:
        member = ctx.profile.staff_member(staff_id)
        name, department = member.name, member.department
    except KeyError:
        name, department = staff_id, ""
    windows = [
        f"{w.name}{'A' if w.staff.a == staff_id else 'B'}"
        for w in ctx.profile.windows
        if staff_id in (w.staff.a, w.staff.b)
    ]
    total = {
        k: sum(d[k] for d in days.values())
        for k in ("visits", "service_s", "completed", "supplements", "consults", "rated", "bad")
    }
    n, rated = total["visits"], total["rated"]
    return {
        "staff_id": staff_id,
        "name": name,
        "department": department,
        "windows": "、".join(windows),
        "visits": n,
        "completed": total["completed"],
        "supplements": total["supplements"],
        "consults": total["consults"],
        "service_mean_min": round(total["service_s"] / n / 60, 1) if n else None,
        "rated": rated,
        "good_rate": round((rated - total["bad"]) / rated, 4) if rated else None,
        "bad": total["bad"],
        "rect_on_time": rects.count("on_time"),
        "rect_late": rects.count("late"),
        "rect_pending": rects.count("pending"),
        "served_days": len(days),
        "working_days": working,
        "first_call_avg": _mean_clock([d["first_call"] for d in days.values() if d["first_call"]]),
        "last_end_avg": _mean_clock([d["last_end"] for d in days.values() if d["last_end"]]),
    }
