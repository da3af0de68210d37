"""What each screen shows, as plain data computed from a Snapshot (no Kivy: unit-testable)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kiosk.display.hallinfo import HallInfo
from kiosk.display.model import Snapshot

WEEKDAYS = "一二三四五六日"
STATUS_TEXT = {"open": "", "paused": "暂停服务", "closed": "已关闭"}
DEFAULT_NOTICE = "请留意叫号，过号请到服务台咨询；请妥善保管个人证件和财物"


@dataclass(frozen=True)
class WindowScreen:
    """The window display."""

    hall_name: str
    window_name: str
    clock: str
    status: str  # open / paused / closed / unknown
    status_text: str
    status_reason: str
    serving: str
    caption: str
    staff_name: str
    duties: str
    contact: str
    groups: str
    notice: str
    offline: bool
    phase: str | None = None  # called / serving (contract v2), None without a ticket or from an older server
    call_line: str = ""  # while called: 请A001号到5号窗口


@dataclass(frozen=True)
class CallRow:
    """One line of the latest calls."""

    ticket: str
    window_name: str
    recall: bool
    newest: bool


@dataclass(frozen=True)
class QueueRow:
    """One queue group."""

    name: str
    prefix: str
    waiting: str
    wait: str


@dataclass(frozen=True)
class HallScreen:
    """The hall display."""

    hall_name: str
    date: str
    time: str
    calls: tuple[CallRow, ...]
    queues: tuple[QueueRow, ...]
    hours: tuple[str, ...]
    self_service: str
    notice: str
    offline: bool


def date_text(now: datetime) -> str:
    """2026年11月23日 星期一."""
    return f"{now.year}年{now.month}月{now.day}日 星期{WEEKDAYS[now.weekday()]}"


def wait_text(minutes: int | None, waiting: int) -> str:
    """约15分钟 / 无需等候 / — (unknown)."""
    if waiting == 0:
        return "无需等候"
    if minutes is None:
        return "—"
    return "约1分钟" if minutes <= 1 else f"约{minutes}分钟"


def _group_names(snap: Snapshot, info: HallInfo) -> dict[str, str]:
    names = dict(info.group_names)
    if snap.queue:
        names.update({g.group: g.name for g in snap.queue.groups})
    return names


def window_screen(snap: Snapshot, info: HallInfo, window_id: str, now: datetime) -> WindowScreen:
    """The window display of one window."""
    state = snap.windows.get(window_id)
    offline = snap.server_online is False
    notice = snap.notice or DEFAULT_NOTICE
    clock = f"{date_text(now)} {now:%H:%M}"
    if state is None:
        return WindowScreen(
            info.hall_name, "", clock, "unknown", "正在连接…", "", "", "", "", "", "", "", notice, offline
        )
    extras = snap.window_extras.get(window_id, {})
    card = info.staff_card(state.staff_display_name)
    # The server's word (on the bus since contract 1.1) wins over the local hall profile.
    duties = str(state.staff_duties or extras.get("staff_duties") or (card.duties if card else "") or "")
    contact = str(state.staff_contact or extras.get("staff_contact") or (card.contact if card else "") or "")
    names = _group_names(snap, info)
    order = {code: i for i, code in enumerate(names)}  # the hall's own order, not the server's
    groups = "、".join(names.get(g, g) for g in sorted(state.groups, key=lambda g: order.get(g, len(order))))
    serving = state.serving if state.status == "open" else ""
    # v2's phase: a called ticket is called (请A001号到5号窗口) until service starts; an older server
    # sends no phase, and its ticket is shown as being served.
    called = bool(serving) and state.phase == "called"
    if state.status != "open":
        caption = "本窗口"
    elif called:
        caption = "正在呼叫"
    else:
        caption = "正在办理" if serving else "请稍候"
    return WindowScreen(
        hall_name=info.hall_name,
        window_name=state.name,
        clock=clock,
        status=state.status,
        status_text=STATUS_TEXT[state.status],
        status_reason=state.status_reason or "",
        serving=serving or "",
        caption=caption,
        staff_name=state.staff_display_name or "",
        duties=f"岗位职责：{duties}" if duties else "",
        contact=f"联系电话：{contact}" if contact else "",
        groups=f"办理业务：{groups}" if groups else "",
        notice=notice,
        offline=offline,
        phase=state.phase if serving else None,
        call_line=f"请{serving}号到{state.name}" if called else "",
    )


def hall_screen(snap: Snapshot, info: HallInfo, now: datetime, rows: int) -> HallScreen:
    """The hall display with at most `rows` latest calls."""
    calls = tuple(CallRow(c.ticket, c.window_name, c.recall, newest=i == 0) for i, c in enumerate(snap.recent[:rows]))
    queues = tuple(
        QueueRow(g.name, g.prefix, str(g.waiting), wait_text(g.estimated_wait_min, g.waiting))
        for g in (snap.queue.groups if snap.queue else [])
    )
    return HallScreen(
        hall_name=info.hall_name,
        date=date_text(now),
        time=f"{now:%H:%M:%S}",
        calls=calls,
        queues=queues,
        hours=info.hours,
        self_service=info.self_service_24h or "",
        notice=snap.notice or "",
        offline=snap.server_online is False,
    )
