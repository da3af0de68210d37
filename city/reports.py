"""Reports over the daily rollups, by level (市/区/街道/社区), hall, department or item: visits, waits
(average, p90 from the wait histogram, longest), 好评率, 差评, 差评整改 on time, 限时办结 on time.
A month over millions of visits reads a few hundred thousand rollup rows, never the raw records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import Engine, text

from city.db.schema import WAIT_BUCKETS_MIN, WAIT_COLUMNS
from city.partitions import add_months
from city.registry import CITY_LEVELS

Dimension = Literal["level", "hall", "department", "item"]
DIMENSIONS: dict[str, tuple[str, str]] = {  # key expression, label expression
    "level": ("h.level", "h.level"),
    "hall": ("r.hall", "min(h.name)"),
    "department": ("r.department", "r.department"),
    "item": ("r.item_code", "r.item_code"),
}
DIMENSION_LABELS = {"level": "层级", "hall": "大厅", "department": "部门", "item": "事项"}


class ReportError(ValueError):
    """A report that cannot be made as asked (Chinese message)."""


@dataclass(frozen=True)
class ReportRow:
    """One line of a report."""

    key: str
    label: str
    visits: int
    avg_wait_min: float | None
    p90_wait_min: int | None  # the upper bound of the wait bucket holding the 90th percentile
    max_wait_min: float | None
    ratings: int
    good_rate: float | None  # 好评率: share of ratings that are not 差评 (as the hall's reports)
    bad: int
    rect_due: int
    rect_on_time_rate: float | None
    cases_due: int
    cases_on_time_rate: float | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dict(self.__dict__)


def month_range(month: str) -> tuple[date, date]:
    """`2026-11` → (2026-11-01, 2026-12-01)."""
    try:
        year, mon = (int(x) for x in month.split("-"))
        start = date(year, mon, 1)
    except ValueError:
        raise ReportError(f"月份格式应为 YYYY-MM：{month}") from None
    return start, add_months(start, 1)


def _p90(buckets: list[int]) -> int | None:
    total = sum(buckets)
    if not total:
        return None
    running = 0
    for bound, count in zip((*WAIT_BUCKETS_MIN, None), buckets, strict=True):
        running += count
        if running >= 0.9 * total:
            return bound if bound is not None else WAIT_BUCKETS_MIN[-1] + 1
    return None


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


_COLUMNS = ", ".join(
    (
        *("hall", "department", "item_code", "visits", "wait_sum_s", "wait_max_s", *WAIT_COLUMNS),
        *(f"eval_{n}" for n in range(1, 6)),
        *("eval_bad", "rect_due", "rect_on_time", "cases_due", "cases_on_time"),
    )
)


def _source(start: date, end: date, today: date, params: dict[str, Any]) -> str:
    """The rollup rows over [start, end): whole calendar months already past `today` from rollup_monthly (their
    `day` is the month's first day, and every day in them is due), the other days from rollup_daily."""
    months: list[date] = []
    daily: list[tuple[date, date]] = []
    cursor = start
    while cursor < end:
        first = cursor.replace(day=1)
        after = add_months(first, 1)
        if cursor == first and after <= end and after - timedelta(days=1) <= today:
            months.append(first)
        elif daily and daily[-1][1] == cursor:
            daily[-1] = (daily[-1][0], min(after, end))
        else:
            daily.append((cursor, min(after, end)))
        cursor = min(after, end)
    parts = []
    if months:
        params["months"] = months
        parts.append(f"SELECT month AS day, {_COLUMNS} FROM rollup_monthly WHERE month = ANY(:months)")
    for n, (lo, hi) in enumerate(daily):
        params[f"d{n}_lo"], params[f"d{n}_hi"] = lo, hi
        parts.append(f"SELECT day, {_COLUMNS} FROM rollup_daily WHERE day >= :d{n}_lo AND day < :d{n}_hi")
    return " UNION ALL ".join(parts) if parts else f"SELECT day, {_COLUMNS} FROM rollup_daily WHERE false"


def report(
    engine: Engine,
    start: date,
    end: date,
    by: str,
    today: date,
    level: str | None = None,
    hall: str | None = None,
    department: str | None = None,
    monthly: bool = True,
) -> list[ReportRow]:
    """Rows of a report over [start, end); due counts only for days up to `today` (not yet due is not late)."""
    if by not in DIMENSIONS:
        raise ReportError(f"不支持按“{by}”统计：可选 level、hall、department、item")
    if level is not None and level not in CITY_LEVELS:
        raise ReportError(f"层级“{level}”无效：可选 市、区、街道、社区")
    key, label = DIMENSIONS[by]
    where = ["r.day >= :start", "r.day < :end"]
    params: dict[str, Any] = {"start": start, "end": end, "today": today}
    source = _source(start, end, today if monthly else date.min, params)  # date.min: daily rows only
    for column, value, name in (
        ("h.level", level, "level"),
        ("r.hall", hall, "hall"),
        ("r.department", department, "dept"),
    ):
        if value is not None:
            where.append(f"{column} = :{name}")
            params[name] = value
    due = "FILTER (WHERE r.day <= :today)"
    sql = (
        f"SELECT {key} AS key, {label} AS label, sum(r.visits) AS visits, sum(r.wait_sum_s) AS wait_sum, "
        "max(r.wait_max_s) AS wait_max, "
        + ", ".join(f"sum(r.{c}) AS {c}" for c in WAIT_COLUMNS)
        + ", "
        + ", ".join(f"sum(r.eval_{n}) AS eval_{n}" for n in range(1, 6))
        + f", sum(r.eval_bad) AS bad, sum(r.rect_due) {due} AS rect_due, sum(r.rect_on_time) {due} AS rect_ok, "
        f"sum(r.cases_due) {due} AS cases_due, sum(r.cases_on_time) {due} AS cases_ok "
        f"FROM ({source}) r JOIN city_hall h ON h.code = r.hall "
        f"WHERE {' AND '.join(where)} GROUP BY {key}"
    )
    with engine.connect() as conn:
        rows = conn.execute(text(sql), params).all()
    out = []
    for r in rows:
        visits = int(r.visits or 0)
        ratings = sum(int(getattr(r, f"eval_{n}") or 0) for n in range(1, 6))
        bad, rect_due, cases_due = int(r.bad or 0), int(r.rect_due or 0), int(r.cases_due or 0)
        out.append(
            ReportRow(
                key=r.key,
                label=r.label or "（未填部门）",
                visits=visits,
                avg_wait_min=round(int(r.wait_sum) / visits / 60, 1) if visits else None,
                p90_wait_min=_p90([int(getattr(r, c) or 0) for c in WAIT_COLUMNS]),
                max_wait_min=round(int(r.wait_max) / 60, 1) if visits else None,
                ratings=ratings,
                good_rate=_rate(ratings - bad, ratings),
                bad=bad,
                rect_due=rect_due,
                rect_on_time_rate=_rate(int(r.rect_ok or 0), rect_due),
                cases_due=cases_due,
                cases_on_time_rate=_rate(int(r.cases_ok or 0), cases_due),
            )
        )
    order = {lvl: i for i, lvl in enumerate(CITY_LEVELS)}
    out.sort(key=lambda row: (order.get(row.key, 9), -row.visits, row.key) if by == "level" else (-row.visits, row.key))
    return out
