"""What the screens show, computed from bus messages alone (no Kivy)."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from broker.messages import Call, DeviceNotice, GroupQueue, QueueState, RecentCalls, ServerAvailability, WindowState
from broker.topics import Topics
from firmware_config.devices import load_devices
from firmware_config.hall import load_hall_profile
from kiosk.display.hallinfo import HallInfo, hours_lines
from kiosk.display.model import DisplayModel
from kiosk.display.views import hall_screen, wait_text, window_screen
from tests.conftest import DEMO_HALL

TS = datetime(2026, 11, 23, 9, 30, 5, tzinfo=ZoneInfo("Asia/Shanghai"))
T = Topics("demo")


def info() -> HallInfo:
    hall = load_hall_profile(DEMO_HALL / "hall.yaml")
    return HallInfo.from_profile(hall, load_devices(DEMO_HALL / "devices.yaml", hall))


def call(call_id: str, ticket: str, window: str, recall: bool = False) -> Call:
    return Call(
        ts=TS, call_id=call_id, ticket=ticket, window_id="w03", window_name=window, text="", speech="", recall=recall
    )


def test_window_screen_from_state_and_profile() -> None:
    model = DisplayModel(T, "display-w03", window="w03")
    assert model.subscriptions()[1] == T.window_state("w03")
    empty = window_screen(model.snapshot(), info(), "w03", TS)
    assert empty.status == "unknown" and empty.status_text == "正在连接…"
    state = WindowState(
        ts=TS, window_id="w03", name="3号窗口", number=3, status="open", serving="A012", staff_display_name="张敏",
        groups=["police"],
    )  # fmt: skip
    model.apply(T.window_state("w03"), state.to_json())
    screen = window_screen(model.snapshot(), info(), "w03", TS)
    assert (screen.window_name, screen.serving, screen.caption) == ("3号窗口", "A012", "正在办理")
    assert (screen.staff_name, screen.duties, screen.contact) == (
        "张敏",
        "岗位职责：无差别综合受理",
        "联系电话：0755-26600003",
    )
    assert screen.groups == "办理业务：公安服务" and screen.clock == "2026年11月23日 星期一 09:30"
    # Fields a newer server adds (duties and contact on the bus) win over the local profile.
    newer = state.model_dump(mode="json") | {"staff_duties": "户籍业务", "staff_contact": "12345"}
    model.apply(T.window_state("w03"), json.dumps(newer).encode())
    newer_screen = window_screen(model.snapshot(), info(), "w03", TS)
    assert (newer_screen.duties, newer_screen.contact) == ("岗位职责：户籍业务", "联系电话：12345")
    paused = state.model_copy(update={"status": "paused", "status_reason": "午间轮休"})
    model.apply(T.window_state("w03"), paused.to_json())
    screen = window_screen(model.snapshot(), info(), "w03", TS)
    assert (screen.status_text, screen.status_reason, screen.serving) == ("暂停服务", "午间轮休", "")


def test_hall_screen_calls_queues_notice() -> None:
    model = DisplayModel(T, "hall-display-1", recent_limit=3)
    model.apply(T.calls_recent(), RecentCalls(ts=TS, calls=[call("1", "A001", "3号窗口")]).to_json())
    change = model.apply(T.call(), call("2", "B002", "13号窗口").to_json())
    assert change is not None and change.call is not None and change.call.ticket == "B002"
    model.apply(T.call(), call("3", "B002", "13号窗口", recall=True).to_json())
    model.apply(T.call(), call("3", "B002", "13号窗口", recall=True).to_json())  # duplicate delivery
    queue = QueueState(
        ts=TS, groups=[GroupQueue(group="social", name="社保医保", prefix="B", waiting=4, estimated_wait_min=12)]
    )
    model.apply(T.queue_state(), queue.to_json())
    notice = DeviceNotice(ts=TS, type="broadcast", message="系统升级，暂停不动产业务")
    model.apply(T.device("hall-display-1", "notice"), notice.to_json())
    screen = hall_screen(model.snapshot(), info(), TS, rows=8)
    assert [(c.ticket, c.window_name, c.recall, c.newest) for c in screen.calls] == [
        ("B002", "13号窗口", True, True),
        ("B002", "13号窗口", False, False),
        ("A001", "3号窗口", False, False),
    ]
    assert [(q.name, q.prefix, q.waiting, q.wait) for q in screen.queues] == [("社保医保", "B", "4", "约12分钟")]
    assert screen.notice == "系统升级，暂停不动产业务" and screen.time == "09:30:05"
    assert screen.self_service.startswith("24小时自助服务区")
    model.apply(T.device("hall-display-1", "notice"), b"")
    model.apply(T.server_availability(), ServerAvailability(ts=TS, state="offline", version="1").to_json())
    later = hall_screen(model.snapshot(), info(), TS, rows=8)
    assert later.notice == "" and later.offline


def test_malformed_messages_change_nothing() -> None:
    model = DisplayModel(T, "hall-display-1")
    assert model.apply(T.call(), b"{not json") is None
    assert model.apply(T.queue_state(), b'{"ts": "2026-11-23T09:00:00+08:00"}') is None
    assert model.snapshot().version == 0


def test_hours_and_waits() -> None:
    hall = load_hall_profile(DEMO_HALL / "hall.yaml")
    assert hours_lines(hall.hours) == ("周一至周五 09:00-18:00（午间不休）", "周六 09:00-12:00", "周日、法定节假日休息")
    assert (wait_text(None, 0), wait_text(None, 3), wait_text(1, 2), wait_text(25, 9)) == (
        "无需等候",
        "—",
        "约1分钟",
        "约25分钟",
    )
