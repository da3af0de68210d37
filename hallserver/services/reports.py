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

from hallserver.models import Visit
from hallserver.services.context import HallContext
from hallserver.services.errors import HallError

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
