"""What the evaluator is doing, with no Kivy and no bus: idle → rating (prompt shown) → detail (optional
indicators; reasons for a bad rating) → sending → thanks → idle. A prompt nobody answers times out."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from pydantic import ValidationError

from broker.client import BusTimeout
from broker.messages import EvaluationSubmit, EvaluatorPrompt, Reply, Request, WindowState
from kiosk.evaluator.levels import level as level_of

log = logging.getLogger("hallq.evaluator")
Phase = Literal["idle", "rating", "detail", "sending", "thanks", "failed"]
Submitter = Callable[[EvaluationSubmit], Reply]
Runner = Callable[[Callable[[], None]], None]
THANKS = "感谢您的评价！"
THANKS_BAD = "感谢您的反馈，我们将在规定时间内回访并整改"


def _thread(job: Callable[[], None]) -> None:
    threading.Thread(target=job, name="evaluator-submit", daemon=True).start()


@dataclass(frozen=True)
class EvaluatorState:
    """Everything the screen needs to draw."""

    phase: Phase = "idle"
    window: WindowState | None = None
    prompt: EvaluatorPrompt | None = None
    level: int | None = None
    indicators: dict[str, int] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
    message: str = ""
    deadline: float | None = None  # monotonic time the current phase ends by itself
    version: int = 0


class EvaluatorController:
    """Thread-safe: the bus thread delivers prompts, the UI thread taps and ticks."""

    def __init__(
        self,
        device_id: str,
        submit: Submitter,
        prompt_timeout_s: float,
        clock: Callable[[], datetime],
        detail_timeout_s: float = 20.0,
        message_s: float = 4.0,
        run: Runner = _thread,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.device_id = device_id
        self._submit = submit
        self.prompt_timeout_s = prompt_timeout_s
        self.detail_timeout_s = detail_timeout_s
        self.message_s = message_s
        self.clock = clock
        self._run = run
        self._now = monotonic
        self._lock = threading.RLock()
        self._state = EvaluatorState()
        self._done: set[int] = set()  # visits rated or timed out here: a retained copy is not shown again
        self._next: EvaluatorPrompt | None = None  # a prompt that came while thanking the previous citizen
        self.on_change: Callable[[EvaluatorState], None] | None = None
        self.timed_out: list[int] = []

    @property
    def state(self) -> EvaluatorState:
        """The current state."""
        with self._lock:
            return self._state

    def _set(self, **changes: object) -> None:
        with self._lock:
            self._state = replace(self._state, version=self._state.version + 1, **changes)  # type: ignore[arg-type]
            state = self._state
        if self.on_change is not None:
            self.on_change(state)

    # --- from the bus ---

    def on_window(self, payload: bytes) -> None:
        """The window's retained state (name, staff) for the idle screen."""
        try:
            self._set(window=WindowState.model_validate_json(payload))
        except ValidationError:
            log.warning("evaluator: malformed window state dropped")

    def on_prompt(self, payload: bytes) -> None:
        """A retained prompt (or its clearing, an empty message)."""
        if not payload:
            with self._lock:
                self._next = None
                if self._state.phase in ("rating", "detail"):
                    self._set(phase="idle", prompt=None, level=None, deadline=None)  # answered elsewhere
            return
        try:
            prompt = EvaluatorPrompt.model_validate_json(payload)
        except ValidationError:
            log.warning("evaluator: malformed prompt dropped")
            return
        with self._lock:
            current = self._state.prompt
            if prompt.visit_id in self._done or (current is not None and current.visit_id == prompt.visit_id):
                return
            if self.clock() - prompt.ts > timedelta(seconds=self.prompt_timeout_s):
                log.info("evaluator: prompt for visit %s is older than the timeout: not shown", prompt.visit_id)
                self._done.add(prompt.visit_id)
                return
            if self._state.phase in ("sending", "thanks", "failed"):
                self._next = prompt  # shown after the thanks to the previous citizen
                return
            self._show(prompt)

    def _show(self, prompt: EvaluatorPrompt) -> None:
        self._set(
            phase="rating",
            prompt=prompt,
            level=None,
            indicators={},
            reasons=(),
            message="",
            deadline=self._now() + self.prompt_timeout_s,
        )

    # --- from the citizen ---

    def choose(self, wire_level: int) -> None:
        """A rating button: go to the optional details."""
        level_of(wire_level)
        with self._lock:
            if self._state.phase not in ("rating", "detail"):
                return
            self._set(phase="detail", level=wire_level, message="", deadline=self._now() + self.detail_timeout_s)

    def set_indicator(self, key: str, wire_level: int) -> None:
        """Rate one aspect (服务态度 …); the same value again clears it."""
        with self._lock:
            if self._state.phase != "detail":
                return
            indicators = dict(self._state.indicators)
            if indicators.get(key) == wire_level:
                indicators.pop(key)
            else:
                indicators[key] = wire_level
            self._set(indicators=indicators, deadline=self._now() + self.detail_timeout_s)

    def toggle_reason(self, reason: str) -> None:
        """Tick or untick a reason for a bad rating."""
        with self._lock:
            if self._state.phase != "detail":
                return
            reasons = self._state.reasons
            reasons = tuple(r for r in reasons if r != reason) if reason in reasons else (*reasons, reason)
            self._set(reasons=reasons, deadline=self._now() + self.detail_timeout_s)

    def back(self) -> None:
        """Choose the level again."""
        with self._lock:
            if self._state.phase == "detail":
                self._set(phase="rating", level=None, deadline=self._now() + self.prompt_timeout_s)

    def rate(self, wire_level: int) -> None:
        """Choose and submit at once (key boxes have no details screen)."""
        self.choose(wire_level)
        self.submit()

    def submit(self) -> None:
        """Send the rating (on a worker thread); the answer moves to thanks or back to retry."""
        with self._lock:
            state = self._state
            if state.phase != "detail" or state.prompt is None or state.level is None:
                return
            request = EvaluationSubmit(
                ts=self.clock(),
                request_id=Request.new_id(),
                visit_id=state.prompt.visit_id,
                ticket=state.prompt.ticket,
                level=state.level,
                indicators=dict(state.indicators),
                comment="；".join(state.reasons) or None,
                channel="evaluator",
            )
            self._set(phase="sending", message="正在提交…", deadline=None)
        self._run(lambda: self._send(request))

    def _send(self, request: EvaluationSubmit) -> None:
        try:
            reply = self._submit(request)
        except BusTimeout:
            log.warning("evaluator: no answer to evaluation.submit for visit %s", request.visit_id)
            self._set(phase="detail", message="网络繁忙，请再次点击“提交评价”", deadline=self._now() + 30)
            return
        with self._lock:
            if request.visit_id is not None:
                self._done.add(request.visit_id)
        if reply.status == "ok":
            bad = bool((reply.data or {}).get("is_bad"))
            self._set(phase="thanks", message=THANKS_BAD if bad else THANKS, deadline=self._now() + self.message_s)
        else:
            message = reply.error.message if reply.error else "评价未能提交"
            self._set(phase="failed", message=message, deadline=self._now() + self.message_s)

    # --- time ---

    def tick(self) -> None:
        """Called a few times a second: ends phases whose time is up."""
        with self._lock:
            state = self._state
            if state.deadline is None or self._now() < state.deadline:
                return
            if state.phase == "detail":
                self.submit()  # a chosen rating is never lost because the citizen walked away
                return
            if state.phase == "rating" and state.prompt is not None:
                self._done.add(state.prompt.visit_id)
                self.timed_out.append(state.prompt.visit_id)
                log.info("evaluator: prompt for visit %s timed out", state.prompt.visit_id)
            queued, self._next = self._next, None
            if queued is not None and queued.visit_id not in self._done:
                self._show(queued)
                return
            self._set(phase="idle", prompt=None, level=None, indicators={}, reasons=(), message="", deadline=None)

    def seconds_left(self) -> int | None:
        """Whole seconds until the current phase ends by itself."""
        deadline = self.state.deadline
        return None if deadline is None else max(0, int(deadline - self._now() + 0.999))
