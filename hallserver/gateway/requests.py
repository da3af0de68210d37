"""Answering bus requests: each request of a known device gets exactly one reply, the first answer again on a
retry from the same device, `invalid` for anything malformed (one warning line, never a traceback)."""

from __future__ import annotations

import logging
import queue
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from broker.client import BusClient, decode
from broker.messages import (
    MAX_PAYLOAD_BYTES,
    ErrorBody,
    Message,
    Reply,
    request_model,
)
from broker.topics import Topics
from firmware_config.devices import ALLOWED_ACTIONS, DeviceSet
from hallcore.errors import HallError
from hallserver.bus_view import DeviceSeen
from hallserver.db import session_scope
from hallserver.events import Effects, Publisher
from hallserver.gateway.handlers import Handlers
from hallserver.models import RequestLog
from hallserver.services.context import HallContext

log = logging.getLogger("hallq.gateway")
_REQUEST_ID = re.compile(rb'"request_id"\s*:\s*"([A-Za-z0-9\-_]{8,64})"')
KNOWN_ACTIONS = frozenset(a for actions in ALLOWED_ACTIONS.values() for a in actions)


class Requests:
    """The gateway's request side (a part of Gateway, kept in its own file)."""

    ctx: HallContext
    engine: Engine
    seen: dict[str, DeviceSeen]
    devices: DeviceSet
    handlers: Handlers
    publisher: Publisher
    client: BusClient
    topics: Topics
    _work: queue.Queue[Callable[[], None] | None]
    _apply: Callable[[Effects], None]
    _on_change: Callable[[str, Any], None]

    def _on_request(self, topic: str, payload: bytes) -> None:
        self._work.put(lambda: self._handle_request(topic, payload))

    def _handle_request(self, topic: str, payload: bytes) -> None:
        parsed = self.topics.parse_request(topic)
        if parsed is None or parsed[0] not in self.seen:
            log.warning("dropped a request from no known device on %s", topic[:200])
            return
        device_id, action = parsed  # the topic proves the sender (contract v2), never the payload
        raw = decode(payload) if len(payload) <= MAX_PAYLOAD_BYTES else None
        request_id = raw.get("request_id") if raw else _salvage_request_id(payload)
        if raw is None or not isinstance(request_id, str) or not 8 <= len(request_id) <= 64:
            log.warning("invalid request %s from %s: no JSON object with a request_id", action[:64], device_id)
            message = "请求不是有效的 JSON 对象或超过 64 KiB" if raw is None else "请求缺少有效的 request_id"
            self._reply(device_id, _refusal(self.ctx.now(), str(request_id or "")[:64], "invalid", message))
            return
        stored = self._stored_reply(device_id, request_id)
        if stored is not None:
            self._reply(device_id, stored)  # a retry: the first answer, again
            return
        reply, effects = self._answer(action, device_id, request_id, raw)
        self._reply(device_id, reply)
        self._apply(effects)  # on the bus right after the reply, on this (the worker's) thread
        # …and to every other listener (the live floor), even when empty: a rating changes the alerts.
        self.publisher.changed(effects, done=self._on_change)

    def _answer(self, action: str, device_id: str, request_id: str, raw: dict[str, Any]) -> tuple[Reply, Effects]:
        device = self.devices.get(device_id)
        now = self.ctx.now()
        model = request_model(action) if action in KNOWN_ACTIONS else None
        try:
            if model is None:
                raise HallError("invalid", f"未知的请求 {action[:64]}")
            try:
                request = model.model_validate(raw)
            except ValidationError as exc:
                raise _invalid(exc) from None
            if request.device_id is not None and request.device_id != device_id:
                raise HallError("forbidden", f"请求来自设备 {device_id}，不能以其他设备的名义发出")
            self.handlers.authorize(device, action, request)
            with session_scope(self.engine) as s:
                data, effects = self.handlers.handle(s, device, action, request)
                reply = Reply(ts=now, request_id=request_id, status="ok", data=data)
                s.add(_log_row(request_id, device_id, action, now, reply))
            return reply, effects
        except HallError as exc:
            if exc.code in ("invalid", "forbidden"):
                log.warning("refused %s from %s: %s %s", action[:64], device_id, exc.code, exc.message[:200])
            reply = _refusal(now, request_id, exc.code, exc.message, exc.data)
            self._store_refusal(request_id, device_id, action[:40], now, reply)
            return reply, Effects()
        except (SQLAlchemyError, OSError):
            log.exception("request %s failed on the database", action)
            return _refusal(now, request_id, "unavailable", "系统繁忙，请稍后重试"), Effects()

    def _stored_reply(self, device_id: str, request_id: str) -> Reply | None:
        with session_scope(self.engine) as s:
            row = s.get(RequestLog, (device_id, request_id))
            return Reply.model_validate_json(row.reply) if row else None

    def _store_refusal(self, request_id: str, device_id: str, action: str, now: datetime, reply: Reply) -> None:
        try:
            with session_scope(self.engine) as s:
                s.add(_log_row(request_id, device_id, action, now, reply))
        except IntegrityError:
            pass  # already answered

    def _reply(self, device_id: str, reply: Reply) -> None:
        self.client.publish(self.topics.device(device_id, "reply"), reply)


def _invalid(exc: ValidationError) -> HallError:
    """A refusal naming the fields at fault, and the values allowed where there is a list of them."""
    errors = exc.errors()[:20]
    fields = sorted({".".join(str(p) for p in e["loc"])[:64] for e in errors})
    allowed = [
        f"{'.'.join(map(str, e['loc']))} 应为 {e['ctx']['expected']}" for e in errors if "expected" in e.get("ctx", {})
    ]
    detail = "；".join(allowed)[:300]
    return HallError(
        "invalid", f"请求参数不正确：{', '.join(fields)}" + (f"（{detail}）" if detail else ""), fields=fields
    )


def _salvage_request_id(payload: bytes) -> str | None:
    """The request_id of a payload that is not valid JSON (too deep, too large, truncated), so that the
    device still gets its answer instead of waiting for a timeout."""
    match = _REQUEST_ID.search(payload[:4096])
    return match.group(1).decode("ascii") if match else None


def _refusal(ts: datetime, request_id: str, code: str, message: str, data: dict[str, Any] | None = None) -> Reply:
    return Reply(
        ts=ts, request_id=request_id, status="error", error=ErrorBody(code=code, message=message, data=data or {})
    )


def _log_row(request_id: str, device_id: str, action: str, now: datetime, reply: Message) -> RequestLog:
    return RequestLog(
        request_id=request_id,
        device_id=device_id,
        action=action,
        received_at=now,
        reply=reply.to_json().decode("utf-8"),
    )
