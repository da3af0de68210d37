"""The evaluator tablet against a real broker and hall server: a finished visit prompts it, taps rate it,
the server records the rating on the visit, a bad one opens a rectification, an unanswered prompt times out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kiosk.evaluator.service import EvaluatorService
from tests.gateway.fixtures import Bus
from tests.ui.helpers import device_bus, issue, serve
from tests.ui.stage import Stage

TABLET = (1280, 800)


class FakeTime:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def evaluator(bus: Bus, stage: Stage) -> Iterator[tuple[EvaluatorService, Any, FakeTime]]:
    """eval-w03 connected, on screen, with a clock for its timeouts."""
    from kiosk.evaluator.app import EvaluatorUi

    fake = FakeTime()
    profile: Any = bus.devices.get("eval-w03")
    service = EvaluatorService(profile, device_bus(bus, "eval-w03"), clock=bus.clock.now, monotonic=fake)
    service.start(wait_s=5)
    assert service.bus.wait_connected(5)
    ui = EvaluatorUi(service, bus.hall.hall.name)
    stage.show(ui.view, TABLET)
    yield service, ui, fake
    ui.close()
    service.stop()


def button(root: Any, text: str) -> Any:
    """The button showing this text."""
    from kivy.uix.button import Button

    found = [w for w in root.walk(restrict=True) if isinstance(w, Button) and w.text == text]
    assert found, f"no button {text!r} on screen"
    return found[0]


def texts(root: Any) -> list[str]:
    from kivy.uix.label import Label

    return [w.text for w in root.walk(restrict=True) if isinstance(w, Label) and w.text]


def test_a_visit_is_rated_with_two_taps(bus: Bus, stage: Stage, evaluator: tuple) -> None:
    service, ui, _ = evaluator
    view = ui.view
    stage.until(lambda: "3号窗口" in texts(view), what="the idle screen")
    assert "工作人员：张敏" in texts(view)
    stage.screenshot("evaluator-idle")

    issue(bus, "police", 11)
    serve(bus, "w03")
    stage.until(lambda: service.controller.state.phase == "rating", what="the prompt")
    prompt = service.controller.state.prompt
    assert prompt is not None and prompt.ticket == "A001" and prompt.staff_display_name == "张敏"
    stage.pump(3)
    assert "请您对本次服务进行评价" in texts(view)
    assert [b.text for b in view.walk(restrict=True) if getattr(b, "background_normal", None) == ""][:5] == [
        "非常满意",
        "满意",
        "基本满意",
        "不满意",
        "非常不满意",
    ]
    stage.screenshot("evaluator-prompt")

    stage.tap(button(view, "满意"))
    stage.until(lambda: service.controller.state.phase == "detail", what="the details screen")
    stage.tap(button(view, "提交评价"))
    stage.until(lambda: service.controller.state.phase == "thanks", what="the thanks")
    assert "感谢您的评价！" in texts(view)

    rows = bus.http.get("/api/v1/evaluations", params={"visit_id": prompt.visit_id}).json()
    assert len(rows) == 1
    assert rows[0]["level"] == 4 and rows[0]["label"] == "满意" and rows[0]["channel"] == "evaluator"
    assert rows[0]["is_bad"] is False


def test_a_bad_rating_with_details_opens_a_rectification(bus: Bus, stage: Stage, evaluator: tuple) -> None:
    service, ui, fake = evaluator
    view = ui.view
    issue(bus, "police", 12)
    serve(bus, "w03")
    stage.until(lambda: service.controller.state.phase == "rating", what="the prompt")
    stage.tap(button(view, "非常不满意"))
    stage.until(lambda: "请告诉我们不满意的原因（可多选）" in texts(view), what="the reasons")
    attitude_row = next(w for w in view.walk(restrict=True) if getattr(w, "text", None) == "服务态度").parent
    stage.tap(next(b for b in attitude_row.children if getattr(b, "text", None) == "不满意"))
    stage.tap(button(view, "等候时间太长"))
    stage.tap(button(view, "服务态度不好"))
    state = service.controller.state
    assert state.indicators == {"attitude": 2} and state.reasons == ("等候时间太长", "服务态度不好")
    stage.screenshot("evaluator-bad-rating")
    stage.tap(button(view, "提交评价"))
    stage.until(lambda: service.controller.state.phase == "thanks", what="the thanks")
    assert "感谢您的反馈，我们将在规定时间内回访并整改" in texts(view)

    visit_id = state.prompt.visit_id
    rows = bus.http.get("/api/v1/evaluations", params={"visit_id": visit_id}).json()
    assert rows[0]["level"] == 1 and rows[0]["is_bad"] is True
    assert rows[0]["indicators"] == {"服务态度": "不满意"}
    assert rows[0]["comment"] == "等候时间太长；服务态度不好"
    cases = bus.http.get("/api/v1/rectifications").json()
    assert any(c["visit_id"] == visit_id and c["state"] == "open" for c in cases)

    fake.now += 5  # the thanks ends, the screen goes back to idle
    stage.until(lambda: service.controller.state.phase == "idle", what="back to idle")


def test_an_unanswered_prompt_times_out(bus: Bus, stage: Stage, evaluator: tuple) -> None:
    service, ui, fake = evaluator
    issue(bus, "police", 13)
    serve(bus, "w03")
    stage.until(lambda: service.controller.state.phase == "rating", what="the prompt")
    visit_id = service.controller.state.prompt.visit_id
    fake.now += service.profile.prompt_timeout_s - 1
    stage.until(lambda: "1秒后自动返回" in texts(ui.view), what="the countdown")
    assert service.controller.state.phase == "rating"
    fake.now += 2
    stage.until(lambda: service.controller.state.phase == "idle", what="the timeout")
    assert service.controller.timed_out == [visit_id]
    assert "欢迎您对我们的服务进行评价" in texts(ui.view)
    assert bus.http.get("/api/v1/evaluations", params={"visit_id": visit_id}).json() == []

    # A restarted evaluator does not show the stale prompt still retained on the bus.
    again = EvaluatorService(service.profile, device_bus(bus, "eval-w03"), clock=lambda: bus.clock.advance(seconds=61))
    again.start(wait_s=5)
    try:
        assert again.bus.wait_connected(5)
        import time

        time.sleep(0.3)
        assert again.controller.state.phase == "idle"
    finally:
        again.stop()
