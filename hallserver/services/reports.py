"""Reports by window, staff, item or department over a day, month, quarter or year: visits, mean and p90
waiting and service time, 好评率, 差评, and the on-time rate of rectifications.

Everything is aggregated in the database. The p90s come from a histogram the database builds in 30-second
buckets (exact to 30 s), so a year of visits never has to be sorted or sent to Python row by row."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from hallcore.errors import HallError
from hallserver.models import Visit
from hallserver.services.context import HallContext

BUCKET_S = 30
PERIODS = ("day", "month", "quarter", "year")
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
    rectified_on_time_rate: float | None


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


def _p90(histogram: dict[int, int], total: int) -> float:
    """The 90th percentile in minutes from bucket → count."""
    if not total:
        return 0.0
    rank, seen = 0.9 * total, 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return round((bucket + 1) * BUCKET_S / 60, 1)
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
    for key, bucket, n, wait_sum, service_sum, rated, bad, rects, on_time in session.execute(
        sa.select(
            dim,
            wait_bucket,
            sa.func.count(),
            sa.func.sum(v.c.wait_s),
            sa.func.sum(v.c.service_s),
            sa.func.count(v.c.rating_gb),
            flag(v.c.rating_gb >= 4),
            sa.func.count(v.c.rect_state),
            flag(v.c.rect_state == "on_time"),
        )
        .where(where)
        .group_by(dim, wait_bucket)
    ).all():
        wait_hist[key][int(bucket)] = int(n)
        row = acc[key]
        for name, value in (
            ("n", n),
            ("wait", wait_sum),
            ("service", service_sum),
            ("rated", rated),
            ("bad", bad),
            ("rects", rects),
            ("on_time", on_time),
        ):
            row[name] += int(value or 0)
    service_hist: dict[Any, dict[int, int]] = defaultdict(dict)
    for key, bucket, n in session.execute(
        sa.select(dim, service_bucket, sa.func.count()).where(where).group_by(dim, service_bucket)
    ).all():
        service_hist[key][int(bucket)] = int(n)
    rows = [_row(ctx, by, key, a, wait_hist[key], service_hist[key]) for key, a in acc.items()]
    rows.sort(key=lambda r: (-r.visits, r.name))
    return rows


def _row(
    ctx: HallContext, by: str, key: Any, a: dict[str, int], wait_hist: dict[int, int], service_hist: dict[int, int]
) -> ReportRow:
    n, rated, rects = a["n"], a["rated"], a["rects"]
    return ReportRow(
        key=key,
        name=_name(ctx, by, key),
        visits=n,
        wait_mean_min=round(a["wait"] / n / 60, 1),
        wait_p90_min=_p90(wait_hist, n),
        service_mean_min=round(a["service"] / n / 60, 1),
        service_p90_min=_p90(service_hist, n),
        rated=rated,
        good_rate=round((rated - a["bad"]) / rated, 4) if rated else None,
        bad=a["bad"],
        rectifications=rects,
        rectified_on_time_rate=round(a["on_time"] / rects, 4) if rects else None,
    )


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
    visits: int
    wait_mean_min: float | None
    service_mean_min: float | None


def trend(session: Session, ctx: HallContext, period: str, day: date) -> list[TrendPoint]:
    """The period sliced for a line chart: a day by hour, a month by day, a quarter by week, a year by month."""
    first, last = period_range(period, day)
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
    else:
        for service_date, n, wait_sum, service_sum in session.execute(
            sa.select(v.c.service_date, sa.func.count(), sa.func.sum(v.c.wait_s), sa.func.sum(v.c.service_s))
            .where(v.c.service_date.between(first, last))
            .group_by(v.c.service_date)
        ).all():
            _add(acc[_slice(period, service_date, first)], n, wait_sum, service_sum)
        keys, labels = _slices(period, first, last)
    return [_point(label, acc.get(key)) for key, label in zip(keys, labels, strict=True)]


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
