"""Reports by window, staff, item or department over a day, month, quarter or year: visits, mean and p90
waiting and service time, 好评率, 差评, and the on-time rate of rectifications.

Everything is aggregated in the database. The p90s come from a histogram the database builds in 30-second
buckets (exact to 30 s, and never above the longest time seen), so a year of visits never has to be sorted or
sent to Python row by row. The on-time rate counts only rectifications that are due: closed ones, and open
ones past their deadline (late already); one still open within its deadline is neither on time nor late.

限时办结 (the on-time rate of cases: decided by their promised date, over the cases whose promised date falls in
the period) comes from case_deadlines.on_time_figures — for the hall and per department — and, per item, from
the same rule applied to the period's cases grouped by item."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from hallcore.errors import HallError
from hallserver.models import OPEN_CASE_STATES, CaseStatus, Rectification, ServiceCase, Visit
from hallserver.services import case_deadlines
from hallserver.services.case_deadlines import OnTimeFigures
from hallserver.services.context import HallContext

BUCKET_S = 30
PERIODS = ("day", "month", "quarter", "year")
# As case_deadlines.on_time_figures: 中止 stops the clock and 视为撤回 was never decided, so neither is due.
_CLOCK_STOPPED = (CaseStatus.suspended, CaseStatus.withdrawn)
DIMENSIONS = {"window": "window_id", "staff": "staff_id", "item": "item_code", "department": "department"}


@dataclass(frozen=True)
class ReportRow:
    """One line of a report."""

    key: str | None
    name: str
    visits: int
    wait_mean_min: float
    wait_p90_min: float
    service_mean_min: float
    service_p90_min: float
    rated: int
    good_rate: float | None  # 好评率: share of ratings that are not 差评
    bad: int
    rectifications: int
    rectifications_due: int  # closed, or open past their deadline: what the on-time rate is over
    rectified_on_time_rate: float | None
    # 限时办结, by department and item only (a case is not a window's or a person's): cases whose promised
    # date falls in the period, those decided by it, and the rate (None: nothing due, or not this dimension)
    cases_due: int | None = None
    cases_on_time: int | None = None
    on_time_rate: float | None = None


def period_range(period: str, day: date) -> tuple[date, date]:
    """[first, last] day of the day/month/quarter/year containing `day`."""
    if period == "day":
        return day, day
    if period == "month":
        first = day.replace(day=1)
    elif period == "quarter":
        first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    elif period == "year":
        first = date(day.year, 1, 1)
    else:
        raise HallError("invalid", f"统计周期须为：{'、'.join(PERIODS)}")
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    year, month = divmod(first.month - 1 + months, 12)
    return first, date(first.year + year, month + 1, 1) - timedelta(days=1)


def _p90(histogram: dict[int, int], total: int, longest_s: int) -> float:
    """The 90th percentile in minutes from bucket → count: the top of its bucket, but never above the
    longest time seen (one visit of 100 s has a p90 of 100 s, not of its bucket's 120 s)."""
    if not total:
        return 0.0
    rank, seen = 0.9 * total, 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return round(min((bucket + 1) * BUCKET_S, longest_s) / 60, 1)
    return 0.0


def build(session: Session, ctx: HallContext, period: str, day: date, by: str) -> list[ReportRow]:
    """The report, one row per window/staff/item/department with any visit in the period, busiest first.
    Two passes over a covering index: (a) per wait bucket — counts, sums, ratings, rectifications — and
    (b) per service bucket."""
    if by not in DIMENSIONS:
        raise HallError("invalid", f"统计维度须为：{'、'.join(DIMENSIONS)}")
    first, last = period_range(period, day)
    v = Visit.__table__  # type: ignore[attr-defined]
    dim = v.c[DIMENSIONS[by]]
    where = v.c.service_date.between(first, last)
    wait_bucket = sa.cast(v.c.wait_s / BUCKET_S, sa.Integer)
    service_bucket = sa.cast(v.c.service_s / BUCKET_S, sa.Integer)

    def flag(condition: Any) -> Any:
        return sa.func.sum(sa.case((condition, 1), else_=0))

    acc: dict[Any, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    wait_hist: dict[Any, dict[int, int]] = defaultdict(dict)
    for key, bucket, n, wait_sum, wait_max, service_sum, rated, bad, rects, on_time, late in session.execute(
        sa.select(
            dim,
            wait_bucket,
            sa.func.count(),
            sa.func.sum(v.c.wait_s),
            sa.func.max(v.c.wait_s),
            sa.func.sum(v.c.service_s),
            sa.func.count(v.c.rating_gb),
            flag(v.c.rating_gb >= 4),
            sa.func.count(v.c.rect_state),
            flag(v.c.rect_state == "on_time"),
            flag(v.c.rect_state == "late"),
        )
        .where(where)
        .group_by(dim, wait_bucket)
    ).all():
        wait_hist[key][int(bucket)] = int(n)
        row = acc[key]
        row["wait_max"] = max(row["wait_max"], int(wait_max or 0))
        for name, value in (
            ("n", n),
            ("wait", wait_sum),
            ("service", service_sum),
            ("rated", rated),
            ("bad", bad),
            ("rects", rects),
            ("on_time", on_time),
            ("late", late),
        ):
            row[name] += int(value or 0)
    service_hist: dict[Any, dict[int, int]] = defaultdict(dict)
    for key, bucket, n, service_max in session.execute(
        sa.select(dim, service_bucket, sa.func.count(), sa.func.max(v.c.service_s))
        .where(where)
        .group_by(dim, service_bucket)
    ).all():
        service_hist[key][int(bucket)] = int(n)
        acc[key]["service_max"] = max(acc[key]["service_max"], int(service_max or 0))
    for key, overdue in _overdue_open(session, ctx, dim, where).items():
        acc[key]["late"] += overdue
    rows = [_row(ctx, by, key, a, wait_hist[key], service_hist[key]) for key, a in acc.items()]
    if by in ("department", "item"):
        figures = (
            {key: case_deadlines.on_time_figures(session, ctx, first, last, key) for key in acc if key}
            if by == "department"
            else on_time_by_item(session, ctx, first, last)
        )
        rows = [_with_on_time(r, figures.get(r.key or "")) for r in rows]
    rows.sort(key=lambda r: (-r.visits, r.name))
    return rows


def _row(
    ctx: HallContext, by: str, key: Any, a: dict[str, int], wait_hist: dict[int, int], service_hist: dict[int, int]
) -> ReportRow:
    n, rated, rects = a["n"], a["rated"], a["rects"]
    due = a["on_time"] + a["late"]
    return ReportRow(
        key=key,
        name=_name(ctx, by, key),
        visits=n,
        wait_mean_min=round(a["wait"] / n / 60, 1),
        wait_p90_min=_p90(wait_hist, n, a["wait_max"]),
        service_mean_min=round(a["service"] / n / 60, 1),
        service_p90_min=_p90(service_hist, n, a["service_max"]),
        rated=rated,
        good_rate=round((rated - a["bad"]) / rated, 4) if rated else None,
        bad=a["bad"],
        rectifications=rects,
        rectifications_due=due,
        rectified_on_time_rate=round(a["on_time"] / due, 4) if due else None,
    )


def _with_on_time(row: ReportRow, figures: OnTimeFigures | None) -> ReportRow:
    if figures is None:
        return replace(row, cases_due=0, cases_on_time=0)
    return replace(row, cases_due=figures.due, cases_on_time=figures.on_time, on_time_rate=figures.rate)


def on_time(
    session: Session, ctx: HallContext, first: date, last: date, department: str | None = None
) -> OnTimeFigures:
    """限时办结 of the hall (or one department) for the cases promised within [first, last]."""
    return case_deadlines.on_time_figures(session, ctx, first, last, department)


def on_time_by_item(session: Session, ctx: HallContext, first: date, last: date) -> dict[str, OnTimeFigures]:
    """限时办结 per item code, by case_deadlines' rule (中止/视为撤回 not counted; open and past the promise is
    late already; decided on or before the promised date is on time), in one grouped query."""
    c = ServiceCase.__table__  # type: ignore[attr-defined]
    today = ctx.today()
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # due, on time, late, open overdue
    zone = ctx.calendar.zone
    for item, status, promised, decided_at, updated_at in session.execute(
        sa.select(c.c.item_code, c.c.status, c.c.promised_date, c.c.decided_at, c.c.updated_at).where(
            c.c.promised_date.between(first, last)
        )
    ).all():
        if status in _CLOCK_STOPPED:
            continue
        slot = acc[item]
        slot[0] += 1
        if status in OPEN_CASE_STATES:
            slot[3] += promised < today
        elif _local_date(decided_at or updated_at, zone) <= promised:
            slot[1] += 1
        else:
            slot[2] += 1
    return {item: OnTimeFigures(first, last, *slot) for item, slot in acc.items()}


def _local_date(value: datetime, zone: Any) -> date:
    if value.tzinfo is None:  # SQLite hands a naive UTC instant back through the core table
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone).date()


def _overdue_open(session: Session, ctx: HallContext, dim: Any, where: Any) -> dict[Any, int]:
    """Per report key: the period's rectifications still open past their deadline (late, though not closed).
    Open rectifications are few, so this joins them to their visits directly."""
    v = Visit.__table__  # type: ignore[attr-defined]
    r = Rectification.__table__  # type: ignore[attr-defined]
    rows = session.execute(
        sa.select(dim, sa.func.count())
        .select_from(v.join(r, r.c.visit_id == v.c.id))
        .where(where, v.c.rect_state == "open", r.c.deadline < ctx.today())
        .group_by(dim)
    ).all()
    return {key: int(n) for key, n in rows}


def _name(ctx: HallContext, by: str, key: str | None) -> str:
    if key is None:
        return "（未登记）"
    if by == "window":
        return next((w.name for w in ctx.profile.windows if w.id == key), key)
    if by == "staff":
        try:
            return ctx.profile.staff_member(key).display_name
        except KeyError:
            return key
    if by == "item":
        return ctx.entry_name(key)
    return key


@dataclass(frozen=True)
class TrendPoint:
    """Visits and mean times in one slice of a period (an hour, day, week or month)."""

    label: str
    visits: int | None  # None: the slice has not begun yet (nothing to plot, not zero)
    wait_mean_min: float | None
    service_mean_min: float | None


def trend(session: Session, ctx: HallContext, period: str, day: date) -> list[TrendPoint]:
    """The period sliced for a line chart: a day by hour, a month by day, a quarter by week, a year by month.
    Slices that begin after the hall's clock are empty (None), so a chart ends at now instead of dropping to 0."""
    first, last = period_range(period, day)
    now = ctx.now().astimezone(ctx.calendar.zone)
    v = Visit.__table__  # type: ignore[attr-defined]
    acc: dict[Any, list[int]] = defaultdict(lambda: [0, 0, 0])  # slice → visits, wait s, service s
    if period == "day":  # one day's rows are few: bucket their local hour here, portably
        zone = ctx.calendar.zone
        for ended, wait_s, service_s in session.execute(
            sa.select(v.c.ended_at, v.c.wait_s, v.c.service_s).where(v.c.service_date == first)
        ).all():
            _add(acc[ended.astimezone(zone).hour], 1, wait_s, service_s)
        hours = sorted(acc) or [9]
        keys: list[Any] = list(range(min(hours[0], 9), max(hours[-1], 17) + 1))
        labels = [f"{h:02d}时" for h in keys]
        starts = [datetime.combine(first, time(h), now.tzinfo) for h in keys]
    else:
        for service_date, n, wait_sum, service_sum in session.execute(
            sa.select(v.c.service_date, sa.func.count(), sa.func.sum(v.c.wait_s), sa.func.sum(v.c.service_s))
            .where(v.c.service_date.between(first, last))
            .group_by(v.c.service_date)
        ).all():
            _add(acc[_slice(period, service_date, first)], n, wait_sum, service_sum)
        keys, labels = _slices(period, first, last)
        starts = [datetime.combine(_slice_start(period, key, first), time(0), now.tzinfo) for key in keys]
    return [
        TrendPoint(label, None, None, None) if start > now else _point(label, acc.get(key))
        for key, label, start in zip(keys, labels, starts, strict=True)
    ]


def _slice_start(period: str, key: Any, first: date) -> date:
    """The first day of a slice of a month (a day), a quarter (a week) or a year (a month)."""
    if period == "month":
        return key
    if period == "quarter":
        return first + timedelta(days=7 * key)
    return date(first.year, key, 1)


def _add(slot: list[int], n: int, wait_s: int | None, service_s: int | None) -> None:
    slot[0] += int(n)
    slot[1] += int(wait_s or 0)
    slot[2] += int(service_s or 0)


def _slice(period: str, d: date, first: date) -> Any:
    if period == "month":
        return d
    if period == "quarter":
        return (d - first).days // 7
    return d.month


def _slices(period: str, first: date, last: date) -> tuple[list[Any], list[str]]:
    if period == "month":
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        return list(days), [f"{d.day}日" for d in days]
    if period == "quarter":
        weeks = list(range((last - first).days // 7 + 1))
        return list(weeks), [f"{(first + timedelta(days=7 * w)):%m-%d}起" for w in weeks]
    return list(range(1, 13)), [f"{m}月" for m in range(1, 13)]


def _point(label: str, slot: list[int] | None) -> TrendPoint:
    if not slot or not slot[0]:
        return TrendPoint(label, 0, None, None)
    n = slot[0]
    return TrendPoint(label, n, round(slot[1] / n / 60, 1), round(slot[2] / n / 60, 1))
