"""Answering bus requests: each request of a known device gets exactly one reply, the first answer again on a
retry from the same device, `invalid` for anything malformed (one warning line, never a traceback)."""

from __future__ import annotations

import logging
import queue
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine, insert
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

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
from hallserver.services import ticket_rows
from hallserver.services.context import HallContext

log = logging.getLogger("hallq.gateway")
_REQUEST_ID = re.compile(rb'"request_id"\s*:\s*"([A-Za-z0-9\-_]{8,64})"')
KNOWN_ACTIONS = frozenset(a for actions in ALLOWED_ACTIONS.values() for a in actions)
PLAIN_ACTIONS = frozenset({"ticket.issue"})  # handled with no ORM object (services/ticket_rows.py)


class RequestJob:
    """One request as it came off the bus, queued for the worker, which answers it together with the
    requests queued behind it (see Requests._handle_batch)."""

    __slots__ = ("owner", "payload", "topic")

    def __init__(self, owner: Requests, topic: str, payload: bytes) -> None:
        self.owner, self.topic, self.payload = owner, topic, payload

    def __call__(self) -> None:
        self.owner._handle_batch([self])


@dataclass
class _Pending:
    """A request on its way through a batch, and its answer once it has one."""

    device_id: str
    action: str
    request_id: str
    raw: dict[str, Any] | None
    reply: Reply | None = None
    effects: Effects | None = None  # None: nothing to publish (an answer from the log, or invalid JSON)
    committed: bool = False  # the reply is one the request log already held before this batch


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
    _out: queue.Queue[Callable[[], None] | None]
    _apply: Callable[[Effects], None]
    _on_change: Callable[[str, Any], None]

    def _on_request(self, topic: str, payload: bytes) -> None:
        self._work.put(RequestJob(self, topic, payload))

    def _handle_request(self, topic: str, payload: bytes) -> None:
        """Answer one request (a batch of one)."""
        self._handle_batch([RequestJob(self, topic, payload)])

    def _handle_batch(self, jobs: list[RequestJob]) -> None:
        """Answer requests in one transaction (group commit: one commit, one fsync for all of them), each in
        a savepoint of its own so that a refusal undoes only its own work. Replies go out only after the
        commit, so no device ever holds an answer the database does not; if the commit fails, every answer
        not already in the request log becomes `unavailable` and a retry is answered afresh."""
        pending = [p for p in (self._parse(job.topic, job.payload) for job in jobs) if p is not None]
        todo = [p for p in pending if p.reply is None]
        if todo:
            try:
                with session_scope(self.engine) as s:
                    self._answer_all(s, todo)
            except (SQLAlchemyError, OSError):
                log.exception("%d request(s) failed on the database", len(todo))
                for p in todo:
                    if not p.committed:
                        p.reply = _refusal(self.ctx.now(), p.request_id, "unavailable", "系统繁忙，请稍后重试")
                        p.effects = Effects()
        for p in pending:
            assert p.reply is not None
            self._reply(p.device_id, p.reply)
        changed = [p.effects for p in pending if p.effects is not None]
        if changed:
            self._out.put(partial(self._publish_changes, changed))  # after the replies, off this thread

    def _publish_changes(self, changed: list[Effects]) -> None:
        """On the publishing thread: each request's changes on the bus, and to every other listener (the
        live floor), even when empty: a rating changes the alerts."""
        for effects in changed:
            try:
                self._apply(effects)
            except Exception:  # one request's publication failing must not cost the others theirs
                log.exception("publishing a request's changes failed")
            self.publisher.changed(effects, done=self._on_change)

    def _parse(self, topic: str, payload: bytes) -> _Pending | None:
        """Who sent what (from the topic), or None for no known device; invalid JSON is answered at once."""
        parsed = self.topics.parse_request(topic)
        if parsed is None or parsed[0] not in self.seen:
            log.warning("dropped a request from no known device on %s", topic[:200])
            return None
        device_id, action = parsed  # the topic proves the sender (contract v2), never the payload
        raw = decode(payload) if len(payload) <= MAX_PAYLOAD_BYTES else None
        request_id = raw.get("request_id") if raw else _salvage_request_id(payload)
        if raw is None or not isinstance(request_id, str) or not 8 <= len(request_id) <= 64:
            log.warning("invalid request %s from %s: no JSON object with a request_id", action[:64], device_id)
            message = "请求不是有效的 JSON 对象或超过 64 KiB" if raw is None else "请求缺少有效的 request_id"
            rid = str(request_id or "")[:64]
            return _Pending(device_id, action, rid, None, _refusal(self.ctx.now(), rid, "invalid", message))
        return _Pending(device_id, action, request_id, raw)

    def _answer_all(self, s: Session, todo: list[_Pending]) -> None:
        """Each request's answer: the stored one for a retry (from the log, or from earlier in this batch),
        otherwise a new one, logged in this transaction."""
        first: dict[tuple[str, str], _Pending] = {}
        copies: list[tuple[_Pending, _Pending]] = []
        logged = _logged(s, {(p.device_id, p.request_id) for p in todo})
        logged_now: list[dict[str, Any]] = []  # this batch's answers, written to the log in one statement
        for p in todo:
            key = (p.device_id, p.request_id)
            if key in first:
                copies.append((p, first[key]))  # the same request twice in one batch: one answer
                continue
            first[key] = p
            if key in logged:
                p.reply, p.committed = Reply.model_validate_json(logged[key]), True  # a retry: the first answer
                continue
            assert p.raw is not None
            p.reply, p.effects = self._answer(s, p.action, p.device_id, p.request_id, p.raw, logged_now)
        for copy, original in copies:
            copy.reply, copy.committed = original.reply, original.committed
        if logged_now:
            s.execute(insert(RequestLog), logged_now)  # part of the same transaction as the answers

    def _answer(
        self,
        s: Session,
        action: str,
        device_id: str,
        request_id: str,
        raw: dict[str, Any],
        log_rows: list[dict[str, Any]],
    ) -> tuple[Reply, Effects]:
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
            # A refusal rolls back this request's work only: an ORM savepoint, or a plain one for the actions
            # that write through plain SQL alone (ticket.issue).
            with ticket_rows.savepoint(s) if action in PLAIN_ACTIONS else s.begin_nested():
                data, effects = self.handlers.handle(s, device, action, request)
            reply = Reply(ts=now, request_id=request_id, status="ok", data=data)
            log_rows.append(_log_row(request_id, device_id, action, now, reply))
            return reply, effects
        except HallError as exc:
            if exc.code in ("invalid", "forbidden"):
                log.warning("refused %s from %s: %s %s", action[:64], device_id, exc.code, exc.message[:200])
            reply = _refusal(now, request_id, exc.code, exc.message, exc.data)
            log_rows.append(_log_row(request_id, device_id, action[:40], now, reply))
            return reply, Effects()
        except ticket_rows.PlainWriteFailed:
            raise  # the transaction is given up: every request of the batch is answered `unavailable`
        except Exception:  # a fault in one request must not cost the batch its answers: not logged, retryable
            log.exception("request %s failed", action[:64])
            return _refusal(now, request_id, "unavailable", "系统繁忙，请稍后重试"), Effects()

    def _reply(self, device_id: str, reply: Reply) -> None:
        self.client.publish(self.topics.device(device_id, "reply"), reply)


def _logged(s: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The stored replies of these (device, request_id) pairs that were answered before: one plain query a
    batch, point lookups in the request log's primary key (device_id IN … AND request_id IN …; a row-value
    IN list makes SQLite scan the whole log), narrowed to the asked pairs here."""
    out: dict[tuple[str, str], str] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), 200):
        chunk = ordered[start : start + 200]
        devices = sorted({d for d, _ in chunk})
        params = {f"d{i}": d for i, d in enumerate(devices)} | {f"r{i}": r for i, (_, r) in enumerate(chunk)}
        statement = (
            "SELECT device_id, request_id, reply FROM request_log WHERE device_id IN ("
            + ", ".join(f":d{i}" for i in range(len(devices)))
            + ") AND request_id IN ("
            + ", ".join(f":r{i}" for i in range(len(chunk)))
            + ")"
        )
        wanted = set(chunk)
        for device, request, reply in ticket_rows.run(s, statement, **params):
            if (device, request) in wanted:
                out[(device, request)] = reply
    return out


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


def _log_row(request_id: str, device_id: str, action: str, now: datetime, reply: Message) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "device_id": device_id,
        "action": action,
        "received_at": now,
        "reply": reply.to_json().decode("utf-8"),
    }
