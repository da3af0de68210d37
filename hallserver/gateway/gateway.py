"""The gateway: answers bus requests exactly once, publishes retained state, tracks devices.

All work runs on one worker thread, in arrival order, so paho's network loop never waits on the
database and two copies of a request can never be handled at the same time."""

from __future__ import annotations

import logging
import queue
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col

from broker.client import BusClient, BusSettings, decode
from broker.messages import (
    CONTRACT_VERSION,
    MAX_PAYLOAD_BYTES,
    DeviceAvailability,
    DeviceConfig,
    DeviceEvent,
    DeviceNotice,
    DeviceStatus,
    ErrorBody,
    EvaluatorPrompt,
    Message,
    PrintJob,
    RecentCalls,
    Reply,
    ServerAvailability,
    request_model,
    speaks_current_contract,
)
from broker.topics import Topics
from firmware_config.devices import ALLOWED_ACTIONS, DeviceSet, bound_window
from hallcore.errors import HallError
from hallserver import __version__
from hallserver.db import session_scope
from hallserver.gateway import state
from hallserver.gateway.effects import Effects
from hallserver.gateway.handlers import Handlers
from hallserver.models import RequestLog, Visit
from hallserver.services.context import HallContext

log = logging.getLogger("hallq.gateway")
PRINT_JOB_TTL = timedelta(minutes=5)  # a ticket nobody is standing at the printer for is not printed
REQUEST_LOG_DAYS = 2
RECENT_CALLS = 10
QUEUE_COALESCE_S = 0.1
_REQUEST_ID = re.compile(rb'"request_id"\s*:\s*"([A-Za-z0-9\-_]{8,64})"')
KNOWN_ACTIONS = frozenset(a for actions in ALLOWED_ACTIONS.values() for a in actions)


@dataclass
class DeviceSeen:
    """What the server knows of a device from the bus."""

    online: bool = False
    since: datetime | None = None
    version: str | None = None
    status: dict[str, Any] = field(default_factory=dict)


class Gateway:
    """Bus ↔ services adapter for one hall server."""

    def __init__(
        self,
        ctx: HallContext,
        engine: Engine,
        devices: DeviceSet,
        bus: BusSettings,
        base_url: str,
        device_config: Callable[[Any], dict[str, Any]],
    ) -> None:
        self.ctx = ctx
        self.engine = engine
        self.devices = devices
        self.base_url = base_url
        self.topics = Topics(ctx.profile.hall.id)
        self.handlers = Handlers(ctx, devices, base_url, self._printer_problem)
        self._jobs: dict[str, tuple[str, str | None]] = {}  # print job → (device to tell, ticket number)
        self._prompted: dict[str, int] = {}  # window → the visit its evaluator is asking about
        self._queue_lock = threading.Lock()
        self._queue_pending = False
        self._device_config = device_config
        self.seen: dict[str, DeviceSeen] = {d.id: DeviceSeen() for d in devices.devices}
        self.notice: str | None = None  # the broadcast every display shows now
        # The live floor feed: told ("effects" | "device" | "notice", detail); it must not block.
        self.on_change: Callable[[str, Any], None] | None = None
        self._work: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._worker = threading.Thread(target=self._run, name="hallq-gateway", daemon=True)
        self.client = BusClient(
            bus,
            self.topics.server_availability(),
            lambda s: ServerAvailability(ts=ctx.now(), state=s, version=__version__),
        )

    # --- lifecycle ---

    def start(self) -> None:
        """Connect, subscribe, and publish the full retained state."""
        self._worker.start()
        self.client.subscribe(self.topics.requests(), self._on_request)
        self.client.subscribe(self.topics.devices("availability"), self._on_availability)
        self.client.subscribe(self.topics.devices("status"), self._on_status)
        self.client.subscribe(self.topics.devices("event"), self._on_event)
        self._work.put(self._housekeeping)
        # After every (re)connection: a broker that lost its retained messages is never left stale.
        self.client.when_connected(lambda: self._work.put(self.publish_all))
        self.client.start()

    def stop(self) -> None:
        """Finish queued work, say offline and disconnect."""
        self._work.put(None)
        self._worker.join(timeout=10)
        self.client.stop()

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until every queued job ran (tests and shutdown)."""
        done = threading.Event()
        self._work.put(done.set)
        done.wait(timeout)

    def notify(self, effects: Effects) -> None:
        """Publish what a REST action changed (thread-safe)."""
        if not effects.empty:
            self._work.put(lambda: self._apply(effects))

    def _run(self) -> None:
        while (job := self._work.get()) is not None:
            try:
                job()
            except Exception:  # nothing on the bus may stop the gateway
                log.exception("gateway job failed")

    # --- retained state ---

    def publish_all(self) -> None:
        """Every window, the queue, recent calls, catalog version and each device's config."""
        ts = self.ctx.now()
        with session_scope(self.engine) as s:
            for ws in state.all_window_states(s, self.ctx, ts):
                self.client.publish(self.topics.window_state(ws.window_id), ws, retain=True)
            self.client.publish(self.topics.queue_state(), state.queue_state(s, self.ctx, ts), retain=True)
            self._publish_recent(s)
        self.client.publish(
            self.topics.catalog_version(), state.catalog_version(self.ctx, self.base_url, ts), retain=True
        )
        for device in self.devices.devices:
            config = DeviceConfig.model_validate({"ts": ts, **self._device_config(device)})
            self.client.publish(self.topics.device(device.id, "config"), config, retain=True)

    def _publish_recent(self, s: Session) -> None:
        calls = state.recent_calls(s, self.ctx, RECENT_CALLS)
        self.client.publish(self.topics.calls_recent(), RecentCalls(ts=self.ctx.now(), calls=calls), retain=True)

    def _apply(self, effects: Effects) -> None:
        ts = self.ctx.now()
        with session_scope(self.engine) as s:
            for window_id in sorted(effects.windows):
                self.client.publish(
                    self.topics.window_state(window_id),
                    state.window_state(s, self.ctx, window_id, ts),
                    retain=True,
                )
            if effects.queue:
                self._queue_later()
            for ticket_id, _window in effects.calls:
                call = state.latest_call(s, self.ctx, ticket_id)
                if call is not None:
                    self.client.publish(self.topics.call(), call)
            if effects.calls:
                self._publish_recent(s)
            for visit_id in effects.prompts:
                self._prompt(s, visit_id)
        for window_id, visit_id in effects.answered:  # an empty retained message clears the prompt…
            if self._prompted.get(window_id) == visit_id:  # …unless it already asks about the next visit
                del self._prompted[window_id]
                for device_id in self._evaluators(window_id):
                    self.client.publish(self.topics.device(device_id, "prompt"), None, retain=True)
        for order in effects.prints:
            job = PrintJob(
                ts=ts,
                job_id=order.job_id,
                kind=order.kind,
                document=order.document,
                expires_at=ts + PRINT_JOB_TTL,
            )
            self.client.publish(
                self.topics.device(order.printer, "job"), job, expiry_s=int(PRINT_JOB_TTL.total_seconds())
            )
            if order.origin is not None:
                self._jobs[order.job_id] = (order.origin, order.document.get("ticket"))

    def broadcast(self, message: str | None) -> int:
        """A manager's notice on every display (retained); None clears it. Returns how many displays."""
        screens = [d.id for d in self.devices.devices if d.type in ("window_display", "hall_display")]
        notice = DeviceNotice(ts=self.ctx.now(), type="broadcast", message=message) if message else None
        for device_id in screens:
            self.client.publish(self.topics.device(device_id, "notice"), notice, retain=True)
        self.notice = message
        self._tell("notice", message)
        return len(screens)

    def _tell(self, what: str, detail: Any) -> None:
        """Pass a change to the live floor feed, if one listens."""
        listener = self.on_change
        if listener is not None:
            try:
                listener(what, detail)
            except Exception:  # the floor view must never break the bus
                log.exception("live feed listener failed")

    def _queue_later(self) -> None:
        """Coalesce queue-state publications: one within QUEUE_COALESCE_S of the first change, however many
        tickets arrive meanwhile (recomputing it per ticket capped the gateway at ~190 requests/s)."""
        with self._queue_lock:
            if self._queue_pending:
                return
            self._queue_pending = True
        timer = threading.Timer(QUEUE_COALESCE_S, lambda: self._work.put(self._publish_queue))
        timer.daemon = True
        timer.start()

    def _publish_queue(self) -> None:
        with self._queue_lock:
            self._queue_pending = False
        with session_scope(self.engine) as s:
            self.client.publish(self.topics.queue_state(), state.queue_state(s, self.ctx, self.ctx.now()), retain=True)

    def _evaluators(self, window_id: str) -> list[str]:
        return [d.id for d in self.devices.devices if d.type == "evaluator" and bound_window(d) == window_id]

    def _prompt(self, s: Session, visit_id: int) -> None:
        """Ask the window's evaluator to rate the visit that just ended (retained until answered)."""
        visit = s.get(Visit, visit_id)
        if visit is None:
            return
        staff = self.ctx.profile.staff_member(visit.staff_id).display_name if visit.staff_id else None
        prompt = EvaluatorPrompt(
            ts=self.ctx.now(),
            visit_id=visit_id,
            ticket=visit.ticket_number,
            window_id=visit.window_id,
            item_name=self.ctx.entry_name(visit.item_code) if visit.item_code else None,
            staff_display_name=staff,
        )
        self._prompted[visit.window_id] = visit_id
        for device_id in self._evaluators(visit.window_id):
            self.client.publish(self.topics.device(device_id, "prompt"), prompt, retain=True)

    def _housekeeping(self) -> None:
        cutoff = self.ctx.now() - timedelta(days=REQUEST_LOG_DAYS)
        with session_scope(self.engine) as s:
            s.execute(delete(RequestLog).where(col(RequestLog.received_at) < cutoff))

    # --- requests ---

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
        self._apply(effects)
        self._tell("effects", effects)  # even empty: a rating or a help request changes the alerts

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
                fields = sorted({".".join(str(p) for p in e["loc"])[:64] for e in exc.errors()})[:20]
                raise HallError("invalid", f"请求参数不正确：{', '.join(fields)}", fields=fields) from None
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

    # --- device tracking ---

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
            self._tell("device", device_id)
            return
        seen.online, seen.since, seen.version = msg.state == "online", msg.ts, msg.version
        if seen.online and not speaks_current_contract(msg.version):
            log.warning("device %s speaks contract %s, not v%s", device_id, msg.version[:20], CONTRACT_VERSION)
        self._tell("device", device_id)

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
        self._tell("device", parsed[0])

    def printer_problem(self, printer: str) -> str | None:
        """Why a printer cannot print right now (None: send the job) — for the window's paperwork too."""
        return self._printer_problem(printer)

    def _printer_problem(self, printer: str) -> str | None:
        """Why a printer cannot print right now, from what it last told us (None: send the job)."""
        seen = self.seen.get(printer)
        if seen is None or seen.since is None:
            return None  # never heard from: send, the agent will report
        if not seen.online:
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
