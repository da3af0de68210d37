"""月考核: the monthly staff assessment sheet a hall manager prints (004 §39).

Every figure is computed from what the system records, and each column says how. Attendance is NOT
recorded by this system (no clock-in): the "served days" and first/last service times are what the
visit records show, and the sheet says so rather than pretending to be an attendance register."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from firmware_config.hall import AccessRole
from hallserver.models import Outcome, Rectification, Visit
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


@dataclass(frozen=True)
class Assessment:
    """One month's sheet."""

    month: str  # "2026-11"
    first: date
    last: date
    working_days: int
    rows: list[dict[str, Any]]
    columns: tuple[Column, ...] = COLUMNS


def month_of(text: str) -> date:
    """ "2026-11" → 2026-11-01 (ValueError when malformed)."""
    year, month = text.split("-")
    return date(int(year), int(month), 1)


def build(session: Session, ctx: HallContext, month: date) -> Assessment:
    """The 月考核 of every window staff member (and anyone else who served) for the month of `month`."""
    first, last = period_range("month", month)
    working = sum(
        1 for i in range((last - first).days + 1) if ctx.calendar.holidays.is_working_day(first + timedelta(i))
    )
    days = _days(session, ctx, first, last)
    rects = _rectifications(session, ctx, first, last)
    people = [s for s in ctx.profile.staff if s.role in (AccessRole.staff, AccessRole.chief)]
    ids = [s.id for s in people] + sorted((set(days) | set(rects)) - {s.id for s in people})
    rows = [_row(ctx, staff_id, days.get(staff_id, {}), rects.get(staff_id, []), working) for staff_id in ids]
    return Assessment(f"{first:%Y-%m}", first, last, working, rows)


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
