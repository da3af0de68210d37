"""The evaluator's state machine alone: no Kivy, no bus, a fake submitter and clocks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from broker.client import BusTimeout
from broker.messages import ErrorBody, EvaluationSubmit, EvaluatorPrompt, Reply
from kiosk.evaluator.controller import THANKS, THANKS_BAD, EvaluatorController
from kiosk.evaluator.levels import LEVELS, level

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


class Fixture:
    def __init__(self) -> None:
        self.time = 0.0
        self.sent: list[EvaluationSubmit] = []
        self.answer: Callable[[EvaluationSubmit], Reply] = lambda r: Reply(
            ts=NOW, request_id=r.request_id, status="ok", data={"is_bad": r.level <= 2}
        )
        self.c = EvaluatorController(
            "eval-w03", self.submit, 60, lambda: NOW, run=lambda job: job(), monotonic=lambda: self.time
        )

    def submit(self, request: EvaluationSubmit) -> Reply:
        self.sent.append(request)
        return self.answer(request)

    def prompt(self, visit_id: int = 7, age_s: float = 0) -> bytes:
        return EvaluatorPrompt(
            ts=NOW - timedelta(seconds=age_s), visit_id=visit_id, ticket="A012", window_id="w03"
        ).to_json()


@pytest.fixture
def f() -> Fixture:
    return Fixture()


def test_levels_on_the_wire() -> None:
    assert [(x.wire, x.label, x.bad) for x in LEVELS] == [
        (5, "非常满意", False),
        (4, "满意", False),
        (3, "基本满意", False),
        (2, "不满意", True),
        (1, "非常不满意", True),
    ]
    with pytest.raises(ValueError):
        level(0)


def test_rate_with_details(f: Fixture) -> None:
    f.c.on_prompt(f.prompt())
    assert f.c.state.phase == "rating"
    f.c.choose(2)
    f.c.set_indicator("efficiency", 1)
    f.c.set_indicator("attitude", 3)
    f.c.set_indicator("attitude", 3)  # tapping again clears it
    f.c.toggle_reason("办理效率低")
    f.c.submit()
    sent = f.sent[0]
    assert (sent.visit_id, sent.ticket, sent.level, sent.channel) == (7, "A012", 2, "evaluator")
    assert sent.indicators == {"efficiency": 1} and sent.comment == "办理效率低"
    assert f.c.state.phase == "thanks" and f.c.state.message == THANKS_BAD
    f.time += 5
    f.c.tick()
    assert f.c.state.phase == "idle"
    f.c.on_prompt(f.prompt())  # the retained copy of a rated visit is not shown again
    assert f.c.state.phase == "idle"


def test_a_chosen_rating_is_sent_when_the_citizen_walks_away(f: Fixture) -> None:
    f.c.on_prompt(f.prompt())
    f.c.choose(5)
    f.time += 19
    f.c.tick()
    assert f.sent == []
    f.time += 2
    f.c.tick()
    assert [r.level for r in f.sent] == [5] and f.c.state.message == THANKS


def test_timeouts_and_stale_prompts(f: Fixture) -> None:
    f.c.on_prompt(f.prompt(visit_id=1, age_s=61))  # retained long ago: never shown
    assert f.c.state.phase == "idle"
    f.c.on_prompt(f.prompt(visit_id=2))
    f.time += 61
    f.c.tick()
    assert f.c.state.phase == "idle" and f.c.timed_out == [2] and f.sent == []


def test_a_prompt_during_the_thanks_waits_its_turn(f: Fixture) -> None:
    f.c.on_prompt(f.prompt(visit_id=1))
    f.c.rate(4)
    f.c.on_prompt(f.prompt(visit_id=2))
    assert f.c.state.phase == "thanks"
    f.time += 5
    f.c.tick()
    assert f.c.state.phase == "rating" and f.c.state.prompt is not None and f.c.state.prompt.visit_id == 2


def test_answered_elsewhere_clears_the_screen(f: Fixture) -> None:
    f.c.on_prompt(f.prompt())
    f.c.on_prompt(b"")
    assert f.c.state.phase == "idle"


def test_no_answer_lets_the_citizen_retry_and_a_refusal_is_shown(f: Fixture) -> None:
    def timeout(_r: EvaluationSubmit) -> Reply:
        raise BusTimeout("no reply")

    f.answer = timeout
    f.c.on_prompt(f.prompt())
    f.c.choose(3)
    f.c.submit()
    assert f.c.state.phase == "detail" and "网络繁忙" in f.c.state.message
    f.answer = lambda r: Reply(
        ts=NOW, request_id=r.request_id, status="error", error=ErrorBody(code="already_rated", message="已经评价过了")
    )
    f.c.submit()
    assert f.c.state.phase == "failed" and f.c.state.message == "已经评价过了"
    assert len({r.request_id for r in f.sent}) == 2
