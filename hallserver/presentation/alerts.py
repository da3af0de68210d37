"""Floor alerts for hall managers: long waits, devices offline, printers out of paper, new 差评,
rectifications near or past their deadline, and kiosks calling for staff.

`evaluate` is pure: it takes plain facts and the current instant, so tests run any moment of the day.
`gather` reads those facts from the database (the only impure part)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from hallcore import ratings
from hallserver.models import Evaluation, Rectification, Visit
from hallserver.services.context import HallContext

LEVELS = {"critical": 0, "warning": 1, "info": 2}
NEW_REVIEW_HOURS = 24  # a 差评 is "new" for a day, or until its call-back is recorded
RECTIFICATION_NEAR_DAYS = 2  # warn when the deadline is today, tomorrow or the day after
OPEN_RECTIFICATION = ("open", "called_back")  # not yet rectified: the deadline still matters


@dataclass(frozen=True)
class Alert:
    """One thing a manager should look at; `key` is stable while the condition lasts."""

    key: str
    kind: str  # queue_wait | no_window | device_offline | devices_unseen | paper | printer | bad_review
    #            | rectification_due | rectification_overdue | assist
    level: str  # critical | warning | info
    title: str
    detail: str
    target: str | None = None  # the window, group or device concerned
    at: str | None = None  # ISO instant the condition started, when known


@dataclass(frozen=True)
class BadReview:
    """A 差评 whose rectification nobody has called back yet (no rater identity here)."""

    evaluation_id: int
    window_id: str
    window_name: str
    label: str
    created_at: datetime


@dataclass(frozen=True)
class DueRectification:
    """A rectification not yet rectified, with its deadline."""

    id: int
    window_id: str
    window_name: str
    department: str | None
    state: str
    deadline: date


@dataclass(frozen=True)
class Facts:
    """Everything the alerts are computed from."""

    groups: Sequence[Mapping[str, Any]]  # presentation.floor.groups()
    devices: Sequence[Mapping[str, Any]]  # presentation.floor.devices()
    reviews: Sequence[BadReview] = ()
    rectifications: Sequence[DueRectification] = ()
    assists: Sequence[Mapping[str, Any]] = ()  # open kiosk help requests (AssistCall.public())
    cases: Sequence[Alert] = ()  # overdue and near-promise cases (presentation.case_alerts)


def group_alerts(groups: Iterable[Mapping[str, Any]]) -> list[Alert]:
    """A group waiting beyond its threshold (critical at twice it), or waiting with no open window."""
    out = []
    for g in groups:
        if not g["waiting"]:
            continue
        code, name, longest, limit = g["group"], g["name"], g["longest_wait_min"], g["wait_alert_minutes"]
        if g.get("estimated_wait_min") is None:
            out.append(
                Alert(
                    f"no_window:{code}",
                    "no_window",
                    "critical",
                    f"{name}无窗口办理",
                    f"{g['waiting']}人等候，当前没有开放的窗口办理该队列",
                    code,
                )
            )
        if longest >= limit:
            level = "critical" if longest >= 2 * limit else "warning"
            out.append(
                Alert(
                    f"queue_wait:{code}",
                    "queue_wait",
                    level,
                    f"{name}等候超时",
                    f"最长已等候{longest}分钟（阈值{limit}分钟），{g['waiting']}人等候",
                    code,
                )
            )
    return out


def device_alerts(devices: Iterable[Mapping[str, Any]]) -> list[Alert]:
    """Devices that went offline, printers out of or low on paper; never-seen devices in one line."""
    out, unseen = [], []
    for d in devices:
        if not d["ever_seen"]:
            unseen.append(d["name"])
            continue
        if not d["online"]:
            out.append(
                Alert(
                    f"offline:{d['id']}",
                    "device_offline",
                    "critical",
                    f"{d['name']}离线",
                    f"{d['type_label']}，位置：{d['location']}",
                    d["id"],
                    d.get("since"),
                )
            )
            continue
        status = d.get("status") or {}
        if status.get("paper") == "out":
            out.append(
                Alert(
                    f"paper:{d['id']}",
                    "paper",
                    "critical",
                    f"{d['name']}缺纸",
                    f"请尽快更换打印纸，位置：{d['location']}",
                    d["id"],
                )
            )
        elif status.get("paper") == "near_end":
            out.append(
                Alert(
                    f"paper:{d['id']}",
                    "paper",
                    "warning",
                    f"{d['name']}打印纸将用尽",
                    f"请准备更换打印纸，位置：{d['location']}",
                    d["id"],
                )
            )
        if status.get("cover") == "open" or status.get("offline"):
            why = "纸仓盖未关闭" if status.get("cover") == "open" else "打印机无响应"
            out.append(
                Alert(
                    f"printer:{d['id']}", "printer", "warning", f"{d['name']}{why}", f"位置：{d['location']}", d["id"]
                )
            )
    if unseen:
        names = "、".join(unseen[:3]) + ("等" if len(unseen) > 3 else "")
        out.append(
            Alert(
                "devices_unseen",
                "devices_unseen",
                "info",
                f"{len(unseen)}台设备尚未上线",
                f"自启动以来未收到其在线消息：{names}",
            )
        )
    return out


def review_alerts(reviews: Iterable[BadReview], now: datetime) -> list[Alert]:
    """差评 from the last NEW_REVIEW_HOURS still waiting for their call-back."""
    since = now - timedelta(hours=NEW_REVIEW_HOURS)
    return [
        Alert(
            f"review:{r.evaluation_id}",
            "bad_review",
            "warning",
            f"{r.window_name}收到差评",
            f"评价：{r.label}，已生成整改单，请及时回访",
            r.window_id,
            r.created_at.isoformat(),
        )
        for r in reviews
        if r.created_at >= since
    ]


def rectification_alerts(
    cases: Iterable[DueRectification], today: date, near_days: int = RECTIFICATION_NEAR_DAYS
) -> list[Alert]:
    """Rectifications past their deadline (critical) or due within `near_days` (warning)."""
    out = []
    for r in cases:
        if r.state not in OPEN_RECTIFICATION:
            continue
        left = (r.deadline - today).days
        who = f"{r.window_name}（{r.department or '未登记部门'}）"
        if left < 0:
            out.append(
                Alert(
                    f"rect:{r.id}",
                    "rectification_overdue",
                    "critical",
                    f"整改单{r.id}已超期{-left}天",
                    f"{who}，期限{r.deadline.isoformat()}",
                    r.window_id,
                )
            )
        elif left <= near_days:
            when = "今天" if left == 0 else f"{left}天后"
            out.append(
                Alert(
                    f"rect:{r.id}",
                    "rectification_due",
                    "warning",
                    f"整改单{r.id}{when}到期",
                    f"{who}，期限{r.deadline.isoformat()}",
                    r.window_id,
                )
            )
    return out


def assist_alerts(calls: Iterable[Mapping[str, Any]]) -> list[Alert]:
    """Kiosk "call staff" requests nobody has taken yet."""
    return [
        Alert(
            f"assist:{c['id']}",
            "assist",
            "warning",
            f"{c['device_name']}呼叫工作人员",
            f"位置：{c['location']}"
            + (f"，{c['reason']}" if c.get("reason") else "")
            + ("（长者模式）" if c.get("elderly") else ""),
            c["device_id"],
            c.get("at"),
        )
        for c in calls
        if not c.get("acknowledged_by")
    ]


def evaluate(facts: Facts, now: datetime) -> list[Alert]:
    """Every alert, most severe first, then newest first."""
    alerts = [
        *group_alerts(facts.groups),
        *device_alerts(facts.devices),
        *review_alerts(facts.reviews, now),
        *rectification_alerts(facts.rectifications, now.date()),
        *assist_alerts(facts.assists),
        *facts.cases,
    ]
    alerts.sort(key=lambda a: a.at or "", reverse=True)
    alerts.sort(key=lambda a: LEVELS[a.level])
    return alerts


def gather_reviews(session: Session, ctx: HallContext, now: datetime) -> list[BadReview]:
    """差评 of the last day whose rectification is still open (waiting for the call-back)."""
    names = {w.id: w.name for w in ctx.profile.windows}
    rows = session.exec(
        select(Evaluation, Visit.window_id)
        .join(Visit, col(Visit.id) == Evaluation.visit_id)
        .join(Rectification, col(Rectification.evaluation_id) == Evaluation.id)
        .where(
            col(Evaluation.is_bad),
            Evaluation.kind == "initial",
            Evaluation.created_at >= now - timedelta(hours=NEW_REVIEW_HOURS),
            Rectification.state == "open",
        )
        .order_by(col(Evaluation.id).desc())
        .limit(50)
    ).all()
    zone = ctx.calendar.zone
    return [
        BadReview(e.id or 0, w, names.get(w, w), ratings.label(e.level_gb), e.created_at.astimezone(zone))
        for e, w in rows
    ]


def gather_rectifications(session: Session, ctx: HallContext, today: date) -> list[DueRectification]:
    """Unrectified cases due within the warning horizon or already overdue."""
    names = {w.id: w.name for w in ctx.profile.windows}
    rows = session.exec(
        select(Rectification)
        .where(
            col(Rectification.state).in_(OPEN_RECTIFICATION),
            Rectification.deadline <= today + timedelta(days=RECTIFICATION_NEAR_DAYS),
        )
        .order_by(col(Rectification.deadline))
        .limit(100)
    ).all()
    return [
        DueRectification(r.id or 0, r.window_id, names.get(r.window_id, r.window_id), r.department, r.state, r.deadline)
        for r in rows
    ]
