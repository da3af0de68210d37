"""The kiosk's side of the hall bus: connection state, the retained queue and catalog version, notices
for this kiosk, and requests with Chinese errors. No Kivy here: the app polls and listens."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from broker.client import BusClient, BusSettings, BusTimeout
from broker.messages import (
    REQUEST_MODELS,
    CatalogVersion,
    DeviceAvailability,
    DeviceNotice,
    DeviceStatus,
    GroupQueue,
    QueueState,
    Request,
    ServerAvailability,
)
from broker.topics import Topics
from firmware_config.devices import KioskProfile

log = logging.getLogger("hallq.kiosk")
REQUEST_TIMEOUT_S = 4.0
REQUEST_ATTEMPTS = 2
SILENT_S = 30.0  # after a request went unanswered, say the server is not answering for this long


class KioskError(Exception):
    """A refusal or failure the citizen is told about (Chinese message, stable code)."""

    def __init__(self, code: str, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data or {}


class KioskService:
    """One kiosk on the bus."""

    def __init__(
        self,
        profile: KioskProfile,
        bus: BusSettings,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.profile = profile
        self.zone = ZoneInfo(bus.timezone)
        self.clock = clock or (lambda: datetime.now(self.zone))
        self.topics = Topics(bus.hall)
        self.bus = BusClient(bus, self.topics.device(profile.id, "availability"), self._availability)
        self.server_state: str | None = None  # retained server availability: online / offline
        self.queue: list[GroupQueue] = []
        self.catalog: CatalogVersion | None = None
        self.on_notice: Callable[[DeviceNotice], None] | None = None
        self.on_catalog: Callable[[CatalogVersion], None] | None = None
        self.on_change: Callable[[], None] | None = None
        self.silent_until = 0.0  # monotonic: a request timed out, the server may have crashed (its will is late)

    def _availability(self, state: str) -> DeviceAvailability:
        return DeviceAvailability.of(self.clock(), state, "kiosk")

    # --- lifecycle ---

    def start(self, wait_s: float = 3.0) -> None:
        """Subscribe and connect in the background (the kiosk works offline meanwhile)."""
        self.bus.subscribe(self.topics.server_availability(), self._on_server)
        self.bus.subscribe(self.topics.queue_state(), self._on_queue)
        self.bus.subscribe(self.topics.catalog_version(), self._on_catalog)
        self.bus.subscribe(self.topics.device(self.profile.id, "notice"), self._on_notice)
        self.bus.enable_replies(self.profile.id)
        self.bus.when_connected(self._publish_status)
        self.bus.start(wait_s)

    def stop(self) -> None:
        """Say offline and disconnect."""
        self.bus.stop()

    def _publish_status(self) -> None:
        self.bus.publish(self.topics.device(self.profile.id, "status"), DeviceStatus(ts=self.clock()), retain=True)

    # --- state ---

    @property
    def online(self) -> bool:
        """True when the broker is connected and the hall server has not said it is offline."""
        return self.bus.connected and self.server_state != "offline"

    @property
    def offline_reason(self) -> str | None:
        """Why requests cannot be served now (Chinese), None when online."""
        if not self.bus.connected:
            return "无法连接大厅服务网络"
        if self.server_state == "offline":
            return "大厅服务器暂时离线"
        if time.monotonic() < self.silent_until:
            return "大厅服务器没有响应"
        return None

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def _on_server(self, _topic: str, payload: bytes) -> None:
        try:
            self.server_state = ServerAvailability.model_validate_json(payload).state
        except ValueError:
            return
        if self.server_state == "online":
            self.silent_until = 0.0
        self._changed()

    def _on_queue(self, _topic: str, payload: bytes) -> None:
        try:
            self.queue = QueueState.model_validate_json(payload).groups
        except ValueError:
            return
        self._changed()

    def _on_catalog(self, _topic: str, payload: bytes) -> None:
        try:
            self.catalog = CatalogVersion.model_validate_json(payload)
        except ValueError:
            return
        if self.on_catalog is not None:
            self.on_catalog(self.catalog)

    def _on_notice(self, _topic: str, payload: bytes) -> None:
        if not payload:
            return
        try:
            notice = DeviceNotice.model_validate_json(payload)
        except ValueError:
            return
        if self.on_notice is not None:
            self.on_notice(notice)

    def base_url(self) -> str | None:
        """The server's HTTP address, from the catalog URL it announced."""
        if self.catalog is None:
            return None
        return self.catalog.url.split("/api/v1/", 1)[0]

    # --- requests ---

    def request(self, action: str, **params: Any) -> dict[str, Any]:
        """Send a request and return its data; KioskError with the citizen-facing reason otherwise."""
        reason = self.offline_reason
        if reason is not None:
            raise KioskError("unavailable", f"{reason}，请稍后再试或咨询工作人员")
        model = REQUEST_MODELS[action]
        try:
            request: Request = model(ts=self.clock(), request_id=Request.new_id(), **params)
        except ValueError as exc:
            raise KioskError("invalid", "输入的信息不完整，请检查后重试") from exc
        try:
            reply = self.bus.request(action, request, timeout_s=REQUEST_TIMEOUT_S, attempts=REQUEST_ATTEMPTS)
        except BusTimeout as exc:
            log.warning("kiosk: %s got no reply", action)
            self.silent_until = time.monotonic() + SILENT_S
            self._changed()
            raise KioskError("unavailable", "服务器没有响应，请稍后再试或咨询工作人员") from exc
        if reply.status == "error":
            if reply.error is None:
                raise KioskError("unavailable", "办理失败，请咨询工作人员")
            raise KioskError(reply.error.code, reply.error.message, reply.error.data)
        return reply.data or {}
