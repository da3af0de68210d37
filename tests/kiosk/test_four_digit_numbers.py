"""Four-digit ticket numbers on the kiosk and the displays: the rating screen takes a typed A1000, the hall
and window displays list and draw A1000 whole (smaller when it must be, never cut to "A10…"), and calls
keep their arrival order (A999 before A1000)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from broker.messages import Call, GroupQueue, QueueState, RecentCalls, WindowState
from broker.topics import Topics
from firmware_config.devices import load_devices
from firmware_config.hall import load_hall_profile
from kiosk.display.hallinfo import HallInfo
from kiosk.display.model import DisplayModel
from kiosk.display.views import HallScreen, WindowScreen, hall_screen, window_screen
from tests.conftest import DEMO_HALL
from tests.kiosk.fakes import FakeBus, make_flows
from tests.ui.stage import Stage

TS = datetime(2026, 11, 23, 9, 30, 5, tzinfo=ZoneInfo("Asia/Shanghai"))
T = Topics("demo")
LANDSCAPE, PORTRAIT, FOUR_THREE = (1920, 1080), (1080, 1920), (1024, 768)


def info() -> HallInfo:
    hall = load_hall_profile(DEMO_HALL / "hall.yaml")
    return HallInfo.from_profile(hall, load_devices(DEMO_HALL / "devices.yaml", hall))


def call(ticket: str, window: str = "3号窗口") -> Call:
    return Call(ts=TS, call_id=ticket, ticket=ticket, window_id="w03", window_name=window, text="", speech="")


# --- the kiosk's rating screen ---


@pytest.mark.parametrize(("typed", "sent"), [("a1000", "A1000"), ("Y3596", "Y3596"), ("a012", "A012")])
def test_the_rating_screen_takes_a_typed_four_digit_number(tmp_path: Path, typed: str, sent: str) -> None:
    target = {"visit_id": 9, "ticket": sent, "window_name": "3号窗口", "staff": "李*", "rated": False}
    answers = {"visit.check": target, "evaluation.submit": {"evaluation_id": 1, "is_bad": False}}
    flows, bus, _ = make_flows(tmp_path, FakeBus(answers=answers))
    flows.start("evaluation")
    for ch in typed + "123456":  # the number, then the rating code of the invitation
        flows.key(ch)
    flows.rate_ticket()
    assert bus.sent[-1] == ("visit.check", {"ticket": sent, "code": "123456"})
    assert flows.state.error is None and flows.state.screen == "rate"
    assert flows.state.result == {**target, "code": "123456"}
    flows.rate(5)
    assert bus.sent[-1] == ("evaluation.submit", {"level": 5, "channel": "kiosk", "visit_id": 9, "code": "123456"})


@pytest.mark.parametrize("typed", ["A12", "A0123", "A10000", "1000", "A"])
def test_the_rating_screen_refuses_what_is_no_ticket_number(tmp_path: Path, typed: str) -> None:
    flows, bus, _ = make_flows(tmp_path, FakeBus())
    flows.start("evaluation")
    for ch in typed + "123456":
        flows.key(ch)
    flows.rate_ticket()
    assert flows.state.error == "请输入今天的排队号码和评价短信中的6位评价码，如 A012483920；或刷取号时使用的身份证"
    assert flows.state.screen != "rate" and bus.sent == []


# --- what the displays show ---


def test_display_views_list_a_four_digit_number_in_call_order() -> None:
    model = DisplayModel(T, "hall-display-1")
    model.apply(T.calls_recent(), RecentCalls(ts=TS, calls=[call("A999"), call("A998")]).to_json())
    model.apply(T.call(), call("A1000", "12号窗口").to_json())
    screen = hall_screen(model.snapshot(), info(), TS, rows=8)
    assert [(c.ticket, c.window_name, c.newest) for c in screen.calls] == [
        ("A1000", "12号窗口", True),
        ("A999", "3号窗口", False),
        ("A998", "3号窗口", False),
    ]
    window = DisplayModel(T, "display-w03", window="w03")
    state = WindowState(ts=TS, window_id="w03", name="3号窗口", number=3, status="open", serving="AB1000", groups=[])
    window.apply(T.window_state("w03"), state.to_json())
    assert window_screen(window.snapshot(), info(), "w03", TS).serving == "AB1000"


# --- drawn on screen (offscreen Kivy) ---


def text_width(label: Any) -> float:
    """How wide the label's whole text is at its font size (what Kivy would have to fit)."""
    from kivy.core.text import Label as CoreLabel

    from kiosk.ui.fonts import FONT_NAME

    return CoreLabel(font_name=FONT_NAME, font_size=label.font_size, bold=label.bold).get_extents(label.text)[0]


def hall_data(tickets: list[str]) -> HallScreen:
    model = DisplayModel(T, "hall-display-1")
    model.apply(T.calls_recent(), RecentCalls(ts=TS, calls=[call(t, "20号窗口") for t in tickets]).to_json())
    queue = QueueState(
        ts=TS, groups=[GroupQueue(group="police", name="公安服务", prefix="A", waiting=40, estimated_wait_min=55)]
    )
    model.apply(T.queue_state(), queue.to_json())
    return hall_screen(model.snapshot(), info(), TS, rows=8)


@pytest.mark.parametrize("size", [LANDSCAPE, PORTRAIT], ids=["landscape", "portrait"])
def test_the_hall_display_draws_four_digit_numbers_whole(stage: Stage, size: tuple[int, int]) -> None:
    from kiosk.display.hall_screen import HallDisplayView

    view = HallDisplayView(rows=8, portrait=size == PORTRAIT)
    stage.show(view, size)
    three = ["A012", "B100", "C007"]
    view.show(hall_data(three))
    stage.pump(3)
    sizes_before = [line.ticket.font_size for line in view.call_lines[:3]]
    assert all(text_width(line.ticket) <= line.ticket.width for line in view.call_lines[:3])

    four = ["AB1000", "A1000", "Y3596", "W9999", "A999"]
    view.show(hall_data(four))
    stage.pump(3)
    for line, ticket in zip(view.call_lines, four, strict=False):
        assert line.ticket.text == ticket
        assert text_width(line.ticket) <= line.ticket.width, (ticket, line.ticket.font_size, line.ticket.width)
        assert line.ticket.font_size > 0.6 * sizes_before[min(1, view.call_lines.index(line))]  # still big
    view.show(hall_data(three))
    stage.pump(3)
    assert [line.ticket.font_size for line in view.call_lines[:3]] == sizes_before  # A012 keeps its size


@pytest.mark.parametrize("size", [LANDSCAPE, FOUR_THREE], ids=["16x9", "4x3"])
@pytest.mark.parametrize("ticket", ["A1000", "AB1000", "W9999"])
def test_the_window_display_draws_a_four_digit_number_whole(stage: Stage, size: tuple[int, int], ticket: str) -> None:
    from kiosk.display.window_screen import WindowDisplayView

    view = WindowDisplayView()
    stage.show(view, size)
    data = WindowScreen(
        hall_name="南山区政务服务中心", window_name="3号窗口", clock="2026年11月23日 星期一 09:30", status="open",
        status_text="", status_reason="", serving=ticket, caption="正在办理", staff_name="张敏", duties="",
        contact="", groups="办理业务：公安服务", notice="请留意叫号", offline=False,
    )  # fmt: skip
    view.show(data)
    stage.pump(3)
    assert view.ticket.text == ticket
    assert text_width(view.ticket) <= view.ticket.width, (view.ticket.font_size, view.ticket.width)
    assert view.ticket.font_size > view.staff.font_size  # still the biggest thing on the screen
    if size == LANDSCAPE:
        assert view.ticket.font_size == 240  # where the design size fits, it is kept
