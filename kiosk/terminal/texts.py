"""What the citizen reads that is computed, not fixed: waits, reopening times. No Kivy here."""

from __future__ import annotations

from datetime import datetime

# The masks are hallcore.identity's (one implementation); named here as the kiosk knew them.
from hallcore.identity import mask_id_number as mask_id  # noqa: F401
from hallcore.identity import mask_name  # noqa: F401

WEEKDAYS = "一二三四五六日"
PURPOSES = {
    "ticket": "取号",
    "checkin": "预约签到",
    "guide": "办事指南",
    "progress": "进度查询",
    "evaluation": "服务评价",
}
LEVELS = ((5, "非常满意"), (4, "满意"), (3, "基本满意"), (2, "不满意"), (1, "非常不满意"))


def wait_text(minutes: int | None) -> str:
    """约 12 分钟 / 暂无法估计."""
    if minutes is None:
        return "暂无法估计"
    return "无需等候" if minutes <= 0 else f"约 {minutes} 分钟"


def wait_phrase(minutes: int | None) -> str:
    """预计等候约 12 分钟 / 无需等候 / 等候时间暂无法估计."""
    if minutes is None:
        return "等候时间暂无法估计"
    return "无需等候" if minutes <= 0 else f"预计等候约 {minutes} 分钟"


def day_label(moment: datetime, now: datetime) -> str:
    """今天 / 明天 / 11月24日（周二）."""
    days = (moment.date() - now.date()).days
    if days == 0:
        return "今天"
    if days == 1:
        return "明天"
    return f"{moment.month}月{moment.day}日（周{WEEKDAYS[moment.weekday()]}）"


def reopen_text(next_opening: datetime | None, now: datetime) -> str:
    """When ticketing reopens, in words: 取号将于明天 09:00 恢复."""
    if next_opening is None:
        return "现在不在办公时间，暂停取号"
    return f"现在不在办公时间，取号将于{day_label(next_opening, now)} {next_opening:%H:%M} 恢复"


def clock_text(now: datetime) -> str:
    """11月23日 周一 09:05."""
    return f"{now.month}月{now.day}日 周{WEEKDAYS[now.weekday()]} {now:%H:%M}"


def when_text(iso: str | None) -> str:
    """An ISO date or time as 11月23日 / 11月23日 09:05."""
    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if len(iso) <= 10:
        return f"{moment.year}年{moment.month}月{moment.day}日"
    return f"{moment.month}月{moment.day}日 {moment:%H:%M}"
