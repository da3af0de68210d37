"""The manager's floor: a snapshot of every window, group, device and alert, and its live stream
(server-sent events). EventSource cannot send headers, so the stream is opened with a short-lived,
single-use ticket bought by an authenticated POST — never with the login token in the URL."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from hallserver.api.deps import Auth, Hall, HallDep
from hallserver.live.feed import FloorFeed
from hallserver.live.hub import encode
from hallserver.services.auth import Unauthorized

router = APIRouter(tags=["大厅监控 floor"])
FLOOR_ROLES = ("chief", "manager", "admin")
HEARTBEAT_S = 15.0  # a comment line keeps proxies from closing an idle stream and detects gone clients
MAX_STREAM_S = 1800.0  # then the browser reconnects with a fresh ticket (and its login is checked again)
RETRY_MS = 2000
_create = threading.Lock()
# Open streams never end on their own, and uvicorn waits for every response before it stops: on SIGINT/SIGTERM
# the streams must finish themselves, or `hallq serve` would hang until a second Ctrl-C.
SHUTTING_DOWN = threading.Event()


def _end_streams_on_exit() -> None:
    """Wrap uvicorn's exit handler so a signal also ends the live streams (as sse-starlette does)."""
    try:
        from uvicorn.server import Server
    except ImportError:  # another ASGI server: it must cancel long responses itself
        return
    original = Server.handle_exit
    if getattr(original, "ends_live_streams", False):
        return

    def handle_exit(self: Server, sig: int, frame: Any) -> None:
        SHUTTING_DOWN.set()
        original(self, sig, frame)

    handle_exit.ends_live_streams = True  # type: ignore[attr-defined]
    Server.handle_exit = handle_exit  # type: ignore[method-assign]


_end_streams_on_exit()


def feed_of(hall: Hall) -> FloorFeed:
    """The hall's live floor feed, made (and hooked to the gateway) on first use."""
    with _create:
        if hall.live is None:
            feed = FloorFeed(hall.ctx, hall.engine, hall.gateway, hall.devices)
            hall.publisher.subscribe(feed.on_change)
            if hall.gateway is not None:  # after hours a kiosk's 呼叫 alerts only a console someone has open
                hall.gateway.assist.watching = lambda: feed.hub.subscribers
            hall.live = feed
        return hall.live


@router.get("/floor", summary="大厅实时总览：窗口、队列、设备与告警")
def floor_snapshot(hall: HallDep, principal: Auth) -> dict[str, Any]:
    """Everything the floor view shows; `event_id` is where to resume the live stream from."""
    principal.require(*FLOOR_ROLES)
    return feed_of(hall).snapshot()


@router.post("/live/tickets", summary="获取实时数据流的一次性连接凭证（30秒内有效）")
def stream_ticket(hall: HallDep, principal: Auth) -> dict[str, Any]:
    """A single-use ticket for GET /live/floor."""
    principal.require(*FLOOR_ROLES)
    feed = feed_of(hall)
    return {"ticket": feed.tickets.issue(principal), "expires_in_s": feed.tickets.ttl_s}


@router.get(
    "/live/floor",
    summary="大厅实时事件流（text/event-stream）",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def floor_stream(
    hall: HallDep,
    ticket: str = Query(min_length=16, max_length=64, description="POST /live/tickets 获得的凭证"),
    last_event_id: str | None = Query(default=None, max_length=40, description="从此事件之后续传"),
    last_event_id_header: str | None = Header(default=None, alias="Last-Event-ID", max_length=40),
) -> StreamingResponse:
    """Events: windows, groups, devices, calls, alerts, notice; first a snapshot unless resuming."""
    feed = feed_of(hall)
    if feed.tickets.redeem(ticket) is None:
        raise Unauthorized("实时数据连接凭证无效或已过期，请重新连接")
    resume = last_event_id or last_event_id_header

    async def events() -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        sub, missed = feed.hub.subscribe(loop, resume)  # here, so the `finally` below always runs
        feed.ensure_running()
        try:
            yield f"retry: {RETRY_MS}\n\n".encode()
            if missed is None:
                snapshot = await run_in_threadpool(feed.snapshot)
                yield encode(snapshot["event_id"], "snapshot", snapshot)
            else:
                for old in missed:
                    yield old.encode()
            ends = loop.time() + MAX_STREAM_S
            quiet_since = loop.time()
            while loop.time() < ends and not SHUTTING_DOWN.is_set():
                try:
                    event = await asyncio.wait_for(sub.queue.get(), min(1.0, HEARTBEAT_S))
                except TimeoutError:
                    if loop.time() - quiet_since >= HEARTBEAT_S:
                        quiet_since = loop.time()
                        yield b": ping\n\n"
                    continue
                quiet_since = loop.time()
                if event is None:  # fell behind: start again from a snapshot
                    yield encode(None, "resync", {})
                    return
                yield event.encode()
        finally:
            feed.hub.unsubscribe(sub)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache, no-store", "X-Accel-Buffering": "no"},
    )
