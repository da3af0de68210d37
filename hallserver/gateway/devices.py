"""Tracking devices from the bus: availability (an offline is always honoured), health, print results."""

from __future__ import annotations

import logging

from broker.client import BusClient, decode
from broker.messages import (
    CONTRACT_VERSION,
    MAX_PAYLOAD_BYTES,
    DeviceAvailability,
    DeviceEvent,
    DeviceNotice,
    DeviceStatus,
    speaks_current_contract,
)
from broker.topics import Topics
from hallserver.bus_view import DeviceSeen
from hallserver.events import Publisher
from hallserver.gateway.handlers import Handlers
from hallserver.services.assist import AssistDesk
from hallserver.services.context import HallContext

log = logging.getLogger("hallq.gateway")


class DeviceTracking:
    """The gateway's device side (a part of Gateway, kept in its own file)."""

    ctx: HallContext
    seen: dict[str, DeviceSeen]
    handlers: Handlers
    publisher: Publisher
    client: BusClient
    topics: Topics
    _jobs: dict[str, tuple[str, str | None]]

    def _on_availability(self, topic: str, payload: bytes) -> None:
        parsed = self.topics.parse_device(topic)
        if parsed is None or parsed[0] not in self.seen:
            return
        device_id, seen = parsed[0], self.seen[parsed[0]]
        try:
            msg = DeviceAvailability.model_validate_json(payload)
        except ValueError:
            # An offline availability (a last will, a clean shutdown) is honoured whatever else it lacks.
            raw = decode(payload) if len(payload) <= MAX_PAYLOAD_BYTES else None
            if not raw or raw.get("state") != "offline":
                log.warning("malformed availability from %s dropped", device_id)
                return
            seen.online, seen.since = False, self.ctx.now()
            log.warning("incomplete offline availability from %s honoured", device_id)
            self.publisher.publish("device", device_id)
            return
        seen.online, seen.since, seen.version = msg.state == "online", msg.ts, msg.version
        if seen.online and not speaks_current_contract(msg.version):
            log.warning("device %s speaks contract %s, not v%s", device_id, msg.version[:20], CONTRACT_VERSION)
        self.publisher.publish("device", device_id)

    def _on_status(self, topic: str, payload: bytes) -> None:
        parsed = self.topics.parse_device(topic)
        if parsed is None or parsed[0] not in self.seen:
            return
        try:
            msg = DeviceStatus.model_validate_json(payload)
        except ValueError:
            log.warning("malformed status from %s dropped", parsed[0])
            return
        self.seen[parsed[0]].status = msg.model_dump(mode="json", exclude_none=True)
        self.publisher.publish("device", parsed[0])

    @property
    def assist(self) -> AssistDesk:
        """呼叫工作人员 requests from kiosks (kept by the handlers that record them)."""
        return self.handlers.assist

    def printer_problem(self, printer: str) -> str | None:
        """Why a printer cannot print right now (None: send the job) — for the window's paperwork too."""
        return self._printer_problem(printer)

    def _printer_problem(self, printer: str) -> str | None:
        """Why a printer cannot print right now, from what it last told us (None: send the job)."""
        seen = self.seen.get(printer)
        if seen is None or not seen.online:  # offline, or never said online: nobody would take the slip
            return "打印机离线，请凭屏幕上的号码等候叫号"
        if seen.status.get("paper") == "out":
            return "打印机缺纸，请凭屏幕上的号码等候叫号"
        if seen.status.get("cover") == "open" or seen.status.get("offline"):
            return "打印机暂时无法打印，请凭屏幕上的号码等候叫号"
        return None

    def _on_event(self, topic: str, payload: bytes) -> None:
        parsed = self.topics.parse_device(topic)
        if parsed is None or parsed[0] not in self.seen:
            return
        try:
            event = DeviceEvent.model_validate_json(payload)
        except ValueError:
            log.warning("malformed event from %s dropped", parsed[0])
            return
        if event.type != "job_result" or event.job_id is None:
            return
        origin = self._jobs.pop(event.job_id, None)
        if origin is not None and event.status == "failed":
            reason = event.error or "打印机故障"
            notice = DeviceNotice(
                ts=self.ctx.now(),
                type="print_failed",
                job_id=event.job_id,
                ticket=origin[1],
                message=f"凭条未能打印（{reason}），请凭屏幕上的号码等候叫号",
            )
            self.client.publish(self.topics.device(origin[0], "notice"), notice)
