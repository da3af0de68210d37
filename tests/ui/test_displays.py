"""Window and hall displays, offscreen, against a real broker and hall server: calls made through the
server show up, a restarted display shows the truth from retained state, managers' changes show up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.display.service import DisplayService
from kiosk.voice.tts import duration_s
from tests.gateway.fixtures import Bus
from tests.ui.helpers import issue, start_display
from tests.ui.stage import Stage

LANDSCAPE, PORTRAIT = (1920, 1080), (1080, 1920)


@pytest.fixture
def running(stage: Stage) -> Iterator[list[tuple[DisplayService, Any]]]:
    """Display services and their UIs started by a test; closed afterwards."""
    started: list[tuple[DisplayService, Any]] = []
    yield started
    for service, ui in started:
        ui.close()
        service.stop()


def show(stage: Stage, running: list[Any], service: DisplayService, size: tuple[int, int]) -> Any:
    from kiosk.display.app import DisplayUi

    ui = DisplayUi(service)
    running.append((service, ui))
    stage.show(ui.view, size)
    return ui


def needed_height(widget: Any) -> float:
    """The height a label's whole text takes at its width (wrapped, never cut)."""
    from kivy.core.text import Label as CoreLabel

    core = CoreLabel(
        text=widget.text, font_size=widget.font_size, font_name=widget.font_name, text_size=(widget.width, None)
    )
    core.refresh()
    return float(core.content_height)


def test_a_call_shows_on_the_window_display_and_the_hall_display(
    bus: Bus, stage: Stage, running: list, tmp_path: Path
) -> None:
    window = start_display(bus, "display-w03")
    window_ui = show(stage, running, window, LANDSCAPE)
    stage.until(lambda: window_ui.view.window_name.text == "3号窗口", what="the window's retained state")
    assert window_ui.view.staff.text == "张敏"
    assert window_ui.view.duties.text == "岗位职责：无差别综合受理"
    assert window_ui.view.contact.text == "联系电话：0755-26600003"
    assert window_ui.view.ticket.text == "—" and window_ui.view.caption.text == "请稍候"

    hall = start_display(bus, "hall-display-1", voice_dir=tmp_path / "voice")
    hall_ui = show(stage, running, hall, LANDSCAPE)
    stage.until(lambda: len(hall_ui.view.queue_lines) == len(bus.hall.groups), what="the queue table")

    for seed in (1, 2):
        issue(bus, "police", seed)
    response = bus.http.post("/api/v1/windows/w03/call-next")
    assert response.status_code == 200 and response.json()["ticket"]["number"] == "A001"

    stage.until(lambda: hall_ui.view.call_lines[0].ticket.text == "A001", what="A001 on the hall display")
    first = hall_ui.view.call_lines[0]
    assert first.window.text == "3号窗口" and first.tag.text == ""
    police = next(line for line in hall_ui.view.queue_lines if line.name.text == "公安服务")
    stage.until(lambda: police.waiting.text == "1人", what="one still waiting")
    assert police.prefix.text == "A"
    assert hall_ui.view.hours.text.startswith("办公时间：周一至周五 09:00-18:00")
    assert "24小时自助服务区" in hall_ui.view.self_service.text

    bus.http.post("/api/v1/windows/w03/recall")
    stage.until(lambda: hall_ui.view.call_lines[0].tag.text == "重呼", what="the recall marked 重呼")
    assert hall_ui.view.call_lines[1].ticket.text == "A001" and hall_ui.view.call_lines[1].tag.text == ""

    # The hall display reads both calls aloud, one after the other.
    assert hall.announcer is not None and hall.announcer.wait_idle(10)
    spoken = [a.text for a in hall.announcer.history]
    assert spoken == ["请A零零幺号到三号窗口办理", "重呼，请A零零幺号到三号窗口办理"]
    assert all(a.path is not None and duration_s(a.path) > 3 for a in hall.announcer.history)

    issue(bus, "consult")
    for other in ("w05", "w16"):
        assert bus.http.post(f"/api/v1/windows/{other}/call-next").json()["ticket"] is not None
    stage.until(lambda: hall_ui.view.call_lines[3].ticket.text == "A001", what="four calls listed")
    assert [line.window.text for line in hall_ui.view.call_lines[:3]] == ["16号窗口", "5号窗口", "3号窗口"]
    stage.screenshot("hall-display-landscape")

    stage.show(window_ui.view, LANDSCAPE)
    stage.until(lambda: window_ui.view.ticket.text == "A001", what="A001 on the window display")
    # Called, not yet served (PROTOCOL v2's phase): the display calls the number until service starts.
    assert window_ui.view.caption.text == "正在呼叫"
    assert window_ui.view.reason.text == "请A001号到3号窗口"
    stage.screenshot("window-display-calling")
    assert bus.http.post("/api/v1/windows/w03/start").status_code == 200
    stage.until(lambda: window_ui.view.caption.text == "正在办理", what="service started on the window display")
    assert window_ui.view.ticket.text == "A001" and window_ui.view.reason.text == ""
    stage.screenshot("window-display")


def test_a_restarted_display_shows_the_current_state_at_once(bus: Bus, stage: Stage, running: list) -> None:
    issue(bus, "police", 3)
    bus.http.post("/api/v1/windows/w03/call-next")
    bus.gateway.drain()
    first = start_display(bus, "display-w03")
    ui = show(stage, running, first, LANDSCAPE)
    stage.until(lambda: ui.view.ticket.text == "A001", what="the first display")
    running.remove((first, ui))
    ui.close()
    first.stop()  # the display goes away (power cut, restart) ...

    again = start_display(bus, "display-w03")  # ... and comes back: no new call is made
    ui2 = show(stage, running, again, LANDSCAPE)
    stage.until(lambda: ui2.view.ticket.text == "A001", what="the restarted display")
    assert ui2.view.staff.text == "张敏"
    assert again.received == {}  # everything came from retained state, not from a live call
    assert [c.ticket for c in again.model.snapshot().recent] == ["A001"]
    # The demo's half-size window (720×405): paddings shrink with the text, so the staff card's lines stay
    # inside their boxes instead of wrapping over each other.
    stage.show(ui2.view, (720, 405))
    stage.until(lambda: ui2.view.groups.width > 0, what="the small window laid out")
    for name in ("duties", "contact", "groups"):
        widget = getattr(ui2.view, name)
        assert needed_height(widget) <= widget.height + 1, name
    stage.screenshot("window-display-small")

    hall = start_display(bus, "hall-display-2")  # a hall display started later has the latest calls too
    hall_ui = show(stage, running, hall, PORTRAIT)
    stage.until(lambda: hall_ui.view.call_lines[0].ticket.text == "A001", what="recent calls on a new hall display")
    stage.screenshot("hall-display-portrait")


def test_reallocation_pause_and_staff_change_show_up(bus: Bus, stage: Stage, running: list) -> None:
    service = start_display(bus, "display-w03")
    ui = show(stage, running, service, LANDSCAPE)
    view = ui.view
    stage.until(
        lambda: "公安服务" in view.groups.text and "社保医保" in view.groups.text,
        what="the start-of-day groups",
        showing=lambda: view.groups.text,
    )

    assert bus.http.put("/api/v1/windows/w03/groups", json={"groups": ["consult", "assist"]}).status_code == 200
    stage.until(
        lambda: sorted(view.groups.text.removeprefix("办理业务：").split("、")) == ["帮办代办", "综合咨询"],
        what="the reallocation",
        showing=lambda: view.groups.text,
    )

    assert bus.http.put("/api/v1/windows/w03/staff", json={"role": "B"}).status_code == 200
    stage.until(lambda: view.staff.text != "张敏", what="the B role taking the window")
    b_holder = view.staff.text
    assert b_holder and view.duties.text.startswith("岗位职责：")

    assert bus.http.post("/api/v1/windows/w03/pause", json={"reason": "系统维护"}).status_code == 200
    stage.until(lambda: view.ticket.text == "暂停服务", what="the pause")
    assert view.reason.text == "原因：系统维护\n请到其他窗口办理" and view.caption.text == "本窗口"
    stage.screenshot("window-display-paused")

    closed = bus.http.put("/api/v1/windows/w03/status", json={"status": "closed", "reason": "今日已停止取号"})
    assert closed.status_code == 200
    stage.until(lambda: view.ticket.text == "已关闭", what="the closing")
    assert view.reason.text.startswith("原因：今日已停止取号")

    assert bus.http.put("/api/v1/windows/w03/status", json={"status": "open"}).status_code == 200
    stage.until(lambda: view.ticket.text == "—" and view.caption.text == "请稍候", what="the reopening")


def test_a_broadcast_notice_and_a_lost_server(bus: Bus, stage: Stage, running: list) -> None:
    service = start_display(bus, "hall-display-1")
    ui = show(stage, running, service, LANDSCAPE)
    stage.until(lambda: ui.view.notice.text.startswith("欢迎来到南山区政务服务中心"), what="the welcome line")
    # A manager broadcasts a notice to every display, then takes it down.
    sent = bus.http.post("/api/v1/notices", json={"message": "今天16:00起暂停不动产业务取号"})
    assert sent.status_code == 200 and sent.json()["displays"] == 22
    stage.until(lambda: ui.view.notice.text == "通知：今天16:00起暂停不动产业务取号", what="the broadcast")
    assert bus.http.delete("/api/v1/notices").status_code == 200
    stage.until(lambda: ui.view.notice.text.startswith("欢迎来到"), what="the broadcast cleared")
    from broker.messages import ServerAvailability

    offline = ServerAvailability(ts=bus.clock.now(), state="offline", version="test")
    bus.gateway.client.publish(bus.topics.server_availability(), offline, retain=True)
    stage.until(lambda: "连接已中断" in ui.view.notice.text, what="the offline warning")


def test_a_long_notice_scrolls_on_the_portrait_hall_display(bus: Bus, stage: Stage, running: list) -> None:
    service = start_display(bus, "hall-display-2")
    ui = show(stage, running, service, PORTRAIT)
    notice = ui.view.notice
    stage.until(lambda: notice.text.startswith("欢迎来到") and notice.width > 500, what="the welcome line", timeout=20)
    assert not notice.scrolling and notice.overflow == 0  # a line that fits stands still

    message = "因系统升级，今天16:00起暂停不动产登记、公积金提取业务取号，已取号的群众请耐心等候，给您带来不便敬请谅解"
    assert bus.http.post("/api/v1/notices", json={"message": message}).status_code == 200
    stage.until(lambda: notice.text == f"通知：{message}", what="the long notice", timeout=20)
    # The whole text is drawn (nothing cut to "…"), wider than the banner, and it moves.
    assert notice.label.text == f"通知：{message}" and notice.overflow > 0 and notice.scrolling
    start = notice.label.x
    stage.until(
        lambda: notice.label.x < start - 50, what="the notice scrolling", showing=lambda: notice.label.x, timeout=20
    )
    stage.screenshot("hall-display-portrait-notice")

    assert bus.http.delete("/api/v1/notices").status_code == 200
    stage.until(lambda: notice.text.startswith("欢迎来到"), what="the notice taken down", timeout=20)
    assert not notice.scrolling and notice.label.x == notice.x
