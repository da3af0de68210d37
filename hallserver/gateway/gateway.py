"""The gateway: answers bus requests exactly once, publishes retained state, tracks devices.

Requests run on one worker thread, in arrival order, so paho's network loop never waits on the database and
two copies of a request can never be handled at the same time. What a request changed goes out on a second
thread (hallq-bus-out), in order, after its reply: the retained state, calls, print jobs and the publisher's
fan-out (live floor) never hold up the next request. Every retained publication is made on that one thread,
so an older read never overwrites a newer one."""

from __future__ import annotations

import logging
import queue
import re
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Engine, delete
from sqlmodel import Session, col

from broker.client import BusClient, BusSettings
from broker.messages import (
    DeviceConfig,
    DeviceNotice,
    EvaluatorPrompt,
    PrintJob,
    RecentCalls,
    ServerAvailability,
)
from broker.topics import Topics
from firmware_config.devices import ALLOWED_ACTIONS, DeviceSet, bound_window
from hallserver import __version__
from hallserver.bus_view import DeviceSeen
from hallserver.db import read_scope, session_scope
from hallserver.events import Effects, Publisher
from hallserver.gateway.devices import DeviceTracking
from hallserver.gateway.green import GreenCounter
from hallserver.gateway.handlers import Handlers
from hallserver.gateway.requests import RequestJob, Requests
from hallserver.models import RequestLog, Visit
from hallserver.services.context import HallContext
from hallserver.views import bus_state as state

log = logging.getLogger("hallq.gateway")
PRINT_JOB_TTL = timedelta(minutes=5)  # a ticket nobody is standing at the printer for is not printed
REQUEST_LOG_DAYS = 2
RECENT_CALLS = 10
QUEUE_COALESCE_S = 0.1
MAX_BATCH = 64  # requests answered in one transaction at most (bounds the first one's wait for the commit)
_NOTHING = object()
_REQUEST_ID = re.compile(rb'"request_id"\s*:\s*"([A-Za-z0-9\-_]{8,64})"')
KNOWN_ACTIONS = frozenset(a for actions in ALLOWED_ACTIONS.values() for a in actions)


class Gateway(Requests, DeviceTracking, GreenCounter):
    """Bus ↔ services adapter for one hall server."""

    def __init__(
        self,
        ctx: HallContext,
        engine: Engine,
        devices: DeviceSet,
        bus: BusSettings,
        base_url: str,
        device_config: Callable[[Any], dict[str, Any]],
        publisher: Publisher | None = None,
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
        # Every change, from a REST route or from a bus request, goes out through one publisher; the gateway
        # is one of its listeners (the live floor is another).
        self.publisher = publisher or Publisher()
        self.publisher.subscribe(self._on_change)
        self._work: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._worker = threading.Thread(target=self._run, name="hallq-gateway", daemon=True)
        self._out: queue.Queue[Callable[[], None] | None] = queue.Queue()  # publishing, after the replies
        self._out_thread = threading.Thread(target=self._run_out, name="hallq-bus-out", daemon=True)
        self.client = BusClient(
            bus,
            self.topics.server_availability(),
            lambda s: ServerAvailability(ts=ctx.now(), state=s, version=__version__),
        )

    # --- lifecycle ---

    def start(self) -> None:
        """Connect, subscribe, and publish the full retained state."""
        self._worker.start()
        self._out_thread.start()
        self.client.subscribe(self.topics.requests(), self._on_request)
        self.client.subscribe(self.topics.devices("availability"), self._on_availability)
        self.client.subscribe(self.topics.devices("status"), self._on_status)
        self.client.subscribe(self.topics.devices("event"), self._on_event)
        self._work.put(self._housekeeping)
        # After every (re)connection: a broker that lost its retained messages is never left stale.
        self.client.when_connected(lambda: self._out.put(self.publish_all))
        self.client.start()

    def stop(self) -> None:
        """Finish queued work, say offline and disconnect."""
        self._work.put(None)
        self._worker.join(timeout=10)
        self._out.put(None)  # after the worker: what its last requests changed still goes out
        self._out_thread.join(timeout=10)
        self.client.stop()

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until every queued job ran and what it changed was published (tests and shutdown)."""
        done = threading.Event()
        self._work.put(lambda: self._out.put(done.set))
        done.wait(timeout)

    def _on_change(self, kind: str, detail: Any) -> None:
        """The publisher's news from REST: put what an action changed on the bus (on the worker, in order)."""
        if kind != "effects" or detail.empty:
            return
        self._out.put(lambda: self._apply(detail))

    def _run(self) -> None:
        job: Callable[[], None] | None = self._work.get()
        while job is not None:
            following: Callable[[], None] | object | None = _NOTHING
            if isinstance(job, RequestJob):
                # Group commit: every request already waiting is answered in the same transaction. Nothing
                # waits for company: at a low rate a batch is one request, under load it grows with the queue.
                batch = [job]
                while len(batch) < MAX_BATCH:
                    try:
                        nxt = self._work.get_nowait()
                    except queue.Empty:
                        break
                    if not isinstance(nxt, RequestJob):
                        following = nxt  # other work keeps its place: right after the requests before it
                        break
                    batch.append(nxt)
                job = partial(self._handle_batch, batch)
            try:
                job()
            except Exception:  # nothing on the bus may stop the gateway
                log.exception("gateway job failed")
            job = self._work.get() if following is _NOTHING else following  # type: ignore[assignment]

    def _run_out(self) -> None:
        """The publishing thread: what requests and REST actions changed, retained state, in order."""
        job = self._out.get()
        while job is not None:
            try:
                job()
            except Exception:  # nothing on the bus may stop the gateway
                log.exception("gateway publishing failed")
            job = self._out.get()

    # --- retained state ---

    def publish_all(self) -> None:
        """Every window, the queue, recent calls, catalog version and each device's config."""
        ts = self.ctx.now()
        with read_scope(self.engine) as s:
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
        if effects.windows or effects.calls or effects.prompts:
            with read_scope(self.engine) as s:
                self._apply_read(s, effects, ts)
        elif effects.queue:
            self._queue_later()  # a new ticket: nothing to read now (the queue state is coalesced)
        for window_id, visit_id in effects.answered:  # an empty retained message clears the prompt…
            if self._prompted.get(window_id) == visit_id:  # …unless it already asks about the next visit
                del self._prompted[window_id]
                for device_id in self._evaluators(window_id):
                    self.client.publish(self.topics.device(device_id, "prompt"), None, retain=True)
        self._send_prints(effects, ts)

    def _apply_read(self, s: Session, effects: Effects, ts: datetime) -> None:
        """The changes that need a read: calls first (what the citizens in the hall wait for, one small read),
        then window states, recent calls and evaluator prompts."""
        for ticket_id, _window in effects.calls:
            call = state.latest_call(s, self.ctx, ticket_id)
            if call is not None:
                self.client.publish(self.topics.call(), call)
        for window_id in sorted(effects.windows):
            self.client.publish(
                self.topics.window_state(window_id), state.window_state(s, self.ctx, window_id, ts), retain=True
            )
        if effects.queue:
            self._queue_later()
        if effects.calls:
            self._publish_recent(s)
        for visit_id in effects.prompts:
            self._prompt(s, visit_id)

    def _send_prints(self, effects: Effects, ts: datetime) -> None:
        for order in effects.prints:
            job = PrintJob(
                ts=ts,
                job_id=order.job_id,
                kind=order.kind,
                document=order.document,
                expires_at=ts + PRINT_JOB_TTL,
            )
            if order.origin is not None:  # known before the printer can answer about it
                self._jobs[order.job_id] = (order.origin, order.document.get("ticket"))
            self.client.publish(
                self.topics.device(order.printer, "job"), job, expiry_s=int(PRINT_JOB_TTL.total_seconds())
            )

    def broadcast(self, message: str | None) -> int:
        """A manager's notice on every display (retained); None clears it. Returns how many displays."""
        screens = [d.id for d in self.devices.devices if d.type in ("window_display", "hall_display")]
        notice = DeviceNotice(ts=self.ctx.now(), type="broadcast", message=message) if message else None
        for device_id in screens:
            self.client.publish(self.topics.device(device_id, "notice"), notice, retain=True)
        self.notice = message
        self.publisher.publish("notice", message)
        return len(screens)

    def _queue_later(self) -> None:
        """Coalesce queue-state publications: one within QUEUE_COALESCE_S of the first change, however many
        tickets arrive meanwhile (recomputing it per ticket capped the gateway at ~190 requests/s)."""
        with self._queue_lock:
            if self._queue_pending:
                return
            self._queue_pending = True
        timer = threading.Timer(QUEUE_COALESCE_S, lambda: self._out.put(self._publish_queue))
        timer.daemon = True
        timer.start()

    def _publish_queue(self) -> None:
        with self._queue_lock:
            self._queue_pending = False
        with read_scope(self.engine) as s:
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
