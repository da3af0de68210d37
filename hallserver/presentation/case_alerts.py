"""Case alerts for the floor (000 §55 预警): cases past their promised date (critical, the oldest few named,
the rest counted) and those near it (one warning). No applicant data: serial numbers and items only."""

from __future__ import annotations

import time
from datetime import date

from sqlmodel import Session

from hallserver.presentation.alerts import Alert
from hallserver.services import case_deadlines
from hallserver.services.case_deadlines import Watchlist
from hallserver.services.context import HallContext

NAMED_OVERDUE = 5  # overdue cases named one by one; more are one summary line
CACHE_S = 30.0
_cache: dict[tuple[int, date], tuple[float, list[Alert]]] = {}


def case_alerts(watch: Watchlist) -> list[Alert]:
    """Alerts from the watchlist (pure)."""
    out = [
        Alert(
            f"case_overdue:{r.serial_no}",
            "case_overdue",
            "critical",
            f"办件超期{r.days_late}天：{r.item_name}",
            f"流水号{r.serial_no}，承诺{r.promised_date.isoformat()}办结，{r.department}，当前{r.status}",
            r.department,
        )
        for r in watch.overdue[:NAMED_OVERDUE]
    ]
    rest = max(watch.overdue_total, len(watch.overdue)) - NAMED_OVERDUE
    if rest > 0:
        out.append(
            Alert("case_overdue:more", "case_overdue", "critical", f"另有{rest}件办件超期", "详见办件管理页的超期清单")
        )
    soon = max(watch.due_soon_total, len(watch.due_soon))
    if soon:
        first = watch.due_soon[0]
        out.append(
            Alert(
                "case_due:soon",
                "case_due",
                "warning",
                f"{soon}件办件临近承诺时限",
                f"最早{first.promised_date.isoformat()}到期（{first.item_name}），详见办件管理页",
            )
        )
    return out


def gather(session: Session, ctx: HallContext) -> list[Alert]:
    """The hall's case alerts, recomputed at most every CACHE_S seconds (and each new day): the live floor
    asks on every change, and case deadlines move by days, decisions by minutes."""
    key = (id(ctx), ctx.today())
    cached = _cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < CACHE_S:
        return cached[1]
    found = case_alerts(case_deadlines.watchlist(session, ctx, limit=NAMED_OVERDUE))  # the totals count all
    _cache.clear()
    _cache[key] = (time.monotonic(), found)
    return found
