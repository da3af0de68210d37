"""An evaluator's connection to the hall: prompts and the window's state in, ratings out over
`evaluation.submit`. A key box (RS-485) rates through the same controller, without a screen."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from broker.client import BusClient, BusSettings
from broker.messages import DeviceAvailability, DeviceStatus, EvaluationSubmit, Reply
from broker.topics import Topics
from firmware_config.devices import EvaluatorProfile
from kiosk.evaluator.controller import EvaluatorController, Runner, _thread
from kiosk.evaluator.keybox import KeyBoxDriver, KeyPress
from kiosk.evaluator.serialport import SerialPort

log = logging.getLogger("hallq.evaluator")


class EvaluatorService:
    """Bus client and controller of one evaluator."""

    def __init__(
        self,
        profile: EvaluatorProfile,
        bus: BusSettings,
        clock: Callable[[], datetime] | None = None,
        run: Runner = _thread,
        submit_timeout_s: float = 3.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.profile = profile
        self.zone = ZoneInfo(bus.timezone)
        self.clock = clock or (lambda: datetime.now(self.zone))
        self.topics = Topics(bus.hall)
        self.submit_timeout_s = submit_timeout_s
        self.bus = BusClient(bus, self.topics.device(profile.id, "availability"), self._availability)
        self.controller = EvaluatorController(
            profile.id, self._submit, profile.prompt_timeout_s, self.clock, run=run, monotonic=monotonic
        )
        self.keybox: KeyBoxDriver | None = None

    def _availability(self, state: str) -> DeviceAvailability:
        return DeviceAvailability.of(self.clock(), state, "evaluator")

    def _submit(self, request: EvaluationSubmit) -> Reply:
        return self.bus.request("evaluation.submit", request, timeout_s=self.submit_timeout_s, attempts=2)

    def start(self, wait_s: float = 10.0) -> None:
        """Listen for prompts and the window's state, connect, and open the key box if there is one."""
        self.bus.enable_replies(self.profile.id)
        self.bus.subscribe(self.topics.window_state(self.profile.window), lambda _t, p: self.controller.on_window(p))
        self.bus.subscribe(self.topics.device(self.profile.id, "prompt"), lambda _t, p: self.controller.on_prompt(p))
        self.bus.when_connected(self._publish_status)
        if self.profile.keybox is not None:
            port = SerialPort(self.profile.keybox.port, self.profile.keybox.baudrate)
            self.keybox = KeyBoxDriver(port, self.on_key)
            self.keybox.start()
        self.bus.start(wait_s)

    def stop(self) -> None:
        """Close the key box, say offline, disconnect."""
        if self.keybox is not None:
            self.keybox.stop()
        self.bus.stop()

    def _publish_status(self) -> None:
        status = DeviceStatus(ts=self.clock(), ok=True)
        self.bus.publish(self.topics.device(self.profile.id, "status"), status, retain=True)

    def on_key(self, press: KeyPress) -> None:
        """A key-box press rates the prompted visit at once."""
        state = self.controller.state
        if press.level is None:
            return
        if state.phase not in ("rating", "detail"):
            log.info("evaluator: key %d pressed with no visit to rate: ignored", press.key)
            return
        self.controller.rate(press.level)
