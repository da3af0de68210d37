"""The live floor stream over real HTTP (uvicorn) with the real gateway and broker: a window change and a
device's last will reach an open stream; tickets are short-lived, single-use and for managers only;
a reconnecting stream resumes from its last event id."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from firmware_config.credentials import device_account
from hallserver.api import live as live_api
from hallserver.live.hub import LiveHub
from hallserver.live.tickets import StreamTickets
from tests.console.conftest import LiveHall
from tests.console.sse import Event, SseReader
from tests.rating_proofs import proven


def open_stream(hall: LiveHall, last: str | None = None, headers: dict[str, str] | None = None) -> SseReader:
    """Buy a ticket as the manager (or `headers`) and open the stream with it."""
    response = hall.http.post("/api/v1/live/tickets", headers=headers)
    assert response.status_code == 200, response.text
    ticket = response.json()["ticket"]
    url = f"{hall.base_url}/api/v1/live/floor?ticket={ticket}" + (f"&last_event_id={last}" if last else "")
    return SseReader(url).start()


@contextmanager
def stream(hall: LiveHall, last: str | None = None) -> Iterator[SseReader]:
    reader = open_stream(hall, last)
    try:
        yield reader
    finally:
        reader.close()


@contextmanager
def device_with_last_will(hall: LiveHall, device_id: str, kind: str) -> Iterator[subprocess.Popen[bytes]]:
    """A device connected by mosquitto_pub, online, with a retained offline last will; the test kills it."""
    bus = hall.bus
    account = device_account(bus.secret_dir, device_id)
    topic = bus.topics.device(device_id, "availability")
    ts = bus.clock.now().isoformat()
    online = f'{{"ts":"{ts}","state":"online","kind":"{kind}","version":"x"}}'
    offline = f'{{"ts":"{ts}","state":"offline","kind":"{kind}","version":"x"}}'
    # fmt: off
    proc = subprocess.Popen(
        ["mosquitto_pub", "-h", bus.broker.host, "-p", str(bus.broker.port), "-V", "mqttv5",
         "-u", account.username, "-P", account.password, "-i", device_id, "-q", "1", "-r", "-t", topic,
         "--will-topic", topic, "--will-payload", offline, "--will-retain", "--will-qos", "1", "-l"],
        stdin=subprocess.PIPE,
    )
    # fmt: on
    assert proc.stdin is not None
    proc.stdin.write(online.encode() + b"\n")  # -l: publish each line read, stay connected
    proc.stdin.flush()
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def device_is(event: Event, device_id: str, online: bool) -> bool:
    return event.kind == "devices" and any(
        d["id"] == device_id and d["online"] is online for d in event.data["devices"]
    )


def window_is(event: Event, window_id: str, **fields: object) -> bool:
    return event.kind == "windows" and any(
        w["id"] == window_id and all(w[k] == v for k, v in fields.items()) for w in event.data["windows"]
    )


def test_stream_delivers_a_window_change_and_a_device_going_offline(live_hall: LiveHall) -> None:
    with stream(live_hall) as reader:
        snapshot = reader.wait_for(lambda e: e.kind == "snapshot").data
        assert len(snapshot["windows"]) == 20 and snapshot["bus"] is True
        assert {g["group"] for g in snapshot["groups"]} >= {"police", "consult"}
        assert len(snapshot["devices"]) == 91
        w05 = next(w for w in snapshot["windows"] if w["id"] == "w05")
        assert w05["status"] == "open" and w05["staff_a"]["name"] and w05["on_duty"] == w05["staff_a"]["name"]

        paused = live_hall.http.put("/api/v1/windows/w05/status", json={"status": "paused", "reason": "临时会议"})
        assert paused.status_code == 200, paused.text
        event = reader.wait_for(lambda e: window_is(e, "w05", status="paused"))
        row = next(w for w in event.data["windows"] if w["id"] == "w05")
        assert row["status_label"] == "暂停服务" and row["status_reason"] == "临时会议"

        with device_with_last_will(live_hall, "caller-w07", "caller") as proc:
            reader.wait_for(lambda e: device_is(e, "caller-w07", True))
            proc.kill()  # no clean disconnect: the broker publishes the last will
        reader.wait_for(lambda e: device_is(e, "caller-w07", False))
        alerts = reader.wait_for(
            lambda e: e.kind == "alerts" and any(a["key"] == "offline:caller-w07" for a in e.data["alerts"])
        )
        offline = next(a for a in alerts.data["alerts"] if a["key"] == "offline:caller-w07")
        assert offline["level"] == "critical" and "离线" in offline["title"]


def test_calls_and_queue_changes_are_streamed(live_hall: LiveHall) -> None:
    http = live_hall.http
    with stream(live_hall) as reader:
        reader.wait_for(lambda e: e.kind == "snapshot")
        assert http.post("/api/v1/tickets", json={"group": "consult"}).status_code == 201
        reader.wait_for(
            lambda e: (
                e.kind == "groups" and any(g["group"] == "consult" and g["waiting"] == 1 for g in e.data["groups"])
            )
        )
        called = http.post("/api/v1/windows/w16/call-next")
        assert called.status_code == 200 and called.json()["ticket"]["number"] == "G001"
        reader.wait_for(lambda e: window_is(e, "w16", serving="G001", serving_state="called"))
        call = reader.wait_for(lambda e: e.kind == "calls")
        assert call.data["calls"][0]["text"] == "请G001号到16号窗口办理"


def test_a_stream_resumes_from_its_last_event(live_hall: LiveHall) -> None:
    http = live_hall.http
    with stream(live_hall) as keeper:  # another manager's floor view stays open throughout
        keeper.wait_for(lambda e: e.kind == "snapshot")
        with stream(live_hall) as first:
            snapshot = first.wait_for(lambda e: e.kind == "snapshot")
            http.put("/api/v1/windows/w03/staff", json={"role": "B"})
            seen = first.wait_for(lambda e: window_is(e, "w03", staff_role="B"))
            assert seen.id and snapshot.id and seen.id.split(".")[0] == snapshot.id.split(".")[0]
        # The first stream dropped; meanwhile a manager closes a window.
        http.put("/api/v1/windows/w04/status", json={"status": "closed"})
        keeper.wait_for(lambda e: window_is(e, "w04", status="closed"))
        with stream(live_hall, last=seen.id) as resumed:
            resumed.wait_for(lambda e: window_is(e, "w04", status="closed"))
            assert "snapshot" not in resumed.kinds()
    # Nobody listening: changes are not recorded, so resuming falls back to a snapshot that has them.
    hub = live_hall.bus.http.app.state.hall.live.hub  # type: ignore[attr-defined]
    deadline = time.monotonic() + 5
    while hub.subscribers and time.monotonic() < deadline:  # the server notices the closed streams
        time.sleep(0.05)
    http.put("/api/v1/windows/w04/status", json={"status": "open"})
    with stream(live_hall, last=seen.id) as late:
        snap = late.wait_for(lambda e: e.kind == "snapshot")
        assert next(w for w in snap.data["windows"] if w["id"] == "w04")["status"] == "open"
    with stream(live_hall, last="another-epoch.5") as fresh:
        fresh.wait_for(lambda e: e.kind == "snapshot")


def test_floor_snapshot_and_tickets_are_for_managers_only(live_hall: LiveHall) -> None:
    http = live_hall.http
    staff = live_hall.headers("s01")
    assert http.get("/api/v1/floor", headers=staff).status_code == 403
    assert http.post("/api/v1/live/tickets", headers=staff).status_code == 403
    assert http.post("/api/v1/live/tickets", headers={"Authorization": ""}).status_code == 401
    chief = live_hall.headers("s05")
    assert http.get("/api/v1/floor", headers=chief).status_code == 200

    ticket = http.post("/api/v1/live/tickets").json()["ticket"]
    url = f"{live_hall.base_url}/api/v1/live/floor?ticket={ticket}"
    with stream(live_hall):  # another stream is fine
        pass
    first = SseReader(url).start()
    try:
        assert first.status == 200
        first.wait_for(lambda e: e.kind == "snapshot")
    finally:
        first.close()
    again = SseReader(url).start()  # single use: spent
    assert again.status == 401
    again.close()
    forged = SseReader(f"{live_hall.base_url}/api/v1/live/floor?ticket={'x' * 32}").start()
    assert forged.status == 401
    forged.close()


def test_heartbeats_keep_an_idle_stream_open(live_hall: LiveHall, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live_api, "HEARTBEAT_S", 0.2)
    with stream(live_hall) as reader:
        reader.wait_for(lambda e: e.kind == "snapshot")
        deadline = time.monotonic() + 5
        while reader.comments < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert reader.comments >= 2


# --- the hub and tickets, without a server ---


def test_tickets_expire_and_are_spent_once() -> None:
    now = [100.0]
    tickets: StreamTickets[str] = StreamTickets(ttl_s=30, clock=lambda: now[0])
    a, b = tickets.issue("m01"), tickets.issue("m01")
    assert tickets.redeem(a) == "m01" and tickets.redeem(a) is None
    now[0] += 31
    assert tickets.redeem(b) is None


def test_a_slow_subscriber_is_told_to_resync_and_never_blocks_the_publisher() -> None:
    async def scenario() -> None:
        hub = LiveHub(history=8, queue_size=3)
        loop = asyncio.get_running_loop()
        sub, missed = hub.subscribe(loop)
        assert missed is None  # no id: start from a snapshot
        for i in range(50):  # from another thread; a blocked publish would hang here (bounded by wait_for)
            await asyncio.wait_for(loop.run_in_executor(None, hub.publish, "windows", {"i": i}), timeout=30)
        await asyncio.sleep(0.05)
        assert sub.overflowed and sub.queue.qsize() == 1 and sub.queue.get_nowait() is None
        _, replay = hub.subscribe(loop, f"{hub.epoch}.45")
        assert replay is not None and [e.seq for e in replay] == [46, 47, 48, 49, 50]
        assert hub.subscribe(loop, f"{hub.epoch}.10")[1] is None  # older than the history
        assert hub.subscribe(loop, f"{hub.epoch}.50")[1] == []
        assert hub.subscribe(loop, "deadbeef.3")[1] is None  # another server run

    asyncio.run(scenario())


def test_a_new_bad_review_reaches_the_alerts(live_hall: LiveHall) -> None:
    from tests.console.test_reports import serve

    http = live_hall.http
    with stream(live_hall) as reader:
        reader.wait_for(lambda e: e.kind == "snapshot")
        live_hall.bus.http.app.state.hall.live.tick_s = 0.3  # type: ignore[attr-defined]  # REST ratings: next tick
        visit = serve(http, live_hall.bus.clock, "w16", 3, 6)
        rated = http.post("/api/v1/evaluations", json=proven(http, {"visit_id": visit, "level": 1}))
        assert rated.status_code == 201 and rated.json()["rectification_id"]
        event = reader.wait_for(
            lambda e: e.kind == "alerts" and any(a["kind"] == "bad_review" for a in e.data["alerts"])
        )
        review = next(a for a in event.data["alerts"] if a["kind"] == "bad_review")
        assert review["title"] == "16号窗口收到差评" and review["target"] == "w16"
        assert "rater" not in json.dumps(event.data) and "person" not in json.dumps(event.data)


def test_streams_end_when_the_server_is_told_to_exit(live_hall: LiveHall) -> None:
    """Otherwise uvicorn would wait for them forever (a stream never ends on its own)."""
    reader = open_stream(live_hall)
    try:
        reader.wait_for(lambda e: e.kind == "snapshot")
        live_hall.server.handle_exit(signal.SIGINT, None)
        assert reader._thread is not None
        reader._thread.join(timeout=10)
        assert not reader._thread.is_alive(), "the stream did not end on shutdown"
    finally:
        live_api.SHUTTING_DOWN.clear()
        reader.close()
