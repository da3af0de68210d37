"""Mosquitto stopped and restarted mid-run: no call and no print job is lost (persistent sessions, QoS 1)."""

from __future__ import annotations

import threading
import time

from broker.messages import Reply
from tests.gateway.fixtures import Bus
from tests.gateway.test_gateway import ticket_request
from tests.integration.helpers import id_number


def test_broker_restart_loses_no_call_and_no_print_job(bus: Bus) -> None:
    # The display joins once (the broker now holds its session), then goes away. The printer stays on:
    # a job for a printer known to be offline is not sent at all (the kiosk shows the ticket instead).
    display, _ = bus.device("display-w05", bus.topics.call(), replies=False)
    _, paper = bus.device("printer-kiosk-01", bus.topics.device("printer-kiosk-01", "job"), replies=False)
    display.stop()
    kiosk, _ = bus.device("kiosk-01")
    bus.http.post(
        "/api/v1/tickets", json={"group": "police", "identity": {"method": "id_card", "id_number": id_number(1)}}
    )

    bus.broker.stop()
    time.sleep(0.3)
    # While the broker is down: a window calls (REST) and a citizen takes a ticket at the kiosk (bus).
    assert bus.http.post("/api/v1/windows/w05/call-next").json()["ticket"]["number"] == "A001"
    replies: list[Reply] = []
    request = ticket_request("kiosk-01", group="police", identity={"method": "id_card", "id_number": id_number(2)})
    waiter = threading.Thread(target=lambda: replies.append(kiosk.request("ticket.issue", request, timeout_s=10)))
    waiter.start()
    time.sleep(0.5)

    bus.broker.start()  # same files: the persistence file brings back every session
    waiter.join(timeout=45)
    assert replies and replies[0].status == "ok" and replies[0].data is not None
    bus.gateway.drain()
    time.sleep(0.5)  # the gateway's queued publishes reach the broker, which holds them for the absent devices

    # Only now does the display come back: the call made meanwhile must be waiting for it.
    _, shown = bus.device("display-w05", bus.topics.call(), replies=False)
    call = shown.wait_for(lambda t, p: p is not None and p["ticket"] == "A001", timeout=20)
    assert call is not None and call["window_id"] == "w05"
    # The printer's will (offline) and its new birth race the kiosk's queued request after the restart: the
    # ticket is answered either way, with its slip or, while the printer is not yet back, with the offline
    # message (the kiosk shows the number). Once the printer is back, its slips reach it.
    data = replies[0].data
    bus.wait_online("printer-kiosk-01")
    if data["print_job_id"] is None:
        assert data["print_error"] == "打印机离线，请凭屏幕上的号码等候叫号", data
        identity = {"method": "id_card", "id_number": id_number(3)}
        again = kiosk.request(
            "ticket.issue", ticket_request("kiosk-01", group="police", identity=identity), timeout_s=10
        )
        assert again.status == "ok" and again.data is not None, again
        data = again.data
    job = paper.wait_for(lambda t, p: p is not None and p.get("job_id") == data["print_job_id"], timeout=20)
    assert job is not None and job["document"]["ticket"] == data["ticket"]


def test_state_is_republished_to_a_broker_that_lost_everything(bus: Bus) -> None:
    bus.http.post("/api/v1/windows/w05/pause", json={"reason": "系统维护"})
    bus.gateway.drain()
    bus.broker.stop()
    # A broker that comes back without its persistence file has no retained state at all.
    assert bus.broker.files.data_dir is not None
    for stored in bus.broker.files.data_dir.iterdir():
        stored.unlink()
    bus.broker.start()
    assert bus.gateway.client.wait_connected(20)
    _, display = bus.device("display-w05", bus.topics.window_state("w05"), replies=False)
    state = display.wait_for(lambda t, p: p is not None, timeout=20)
    assert state is not None and state["status"] == "paused" and state["status_reason"] == "系统维护"
