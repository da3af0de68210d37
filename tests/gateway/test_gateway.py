"""The server gateway over a real Mosquitto: requests answered once, authorization, retained state,
calls, print jobs, device availability."""

from __future__ import annotations

import subprocess
import time

from sqlmodel import Session, func, select

from broker.client import BusTimeout
from broker.messages import Request, TicketIssue, WindowAction
from firmware_config.credentials import device_account
from hallserver.models import Ticket
from tests.gateway.fixtures import Bus
from tests.integration.helpers import id_number


def ticket_request(device: str, **kw: object) -> TicketIssue:
    return TicketIssue(ts=time_now(), request_id=Request.new_id(), device_id=device, **kw)  # type: ignore[arg-type]


def window_request(device: str, window: str, **kw: object) -> WindowAction:
    return WindowAction(ts=time_now(), request_id=Request.new_id(), device_id=device, window_id=window, **kw)  # type: ignore[arg-type]


def time_now():  # type: ignore[no-untyped-def]
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Asia/Shanghai"))


def ticket_count(bus: Bus) -> int:
    with Session(bus.gateway.engine) as s:
        return int(s.exec(select(func.count()).select_from(Ticket)).one())


def test_kiosk_takes_a_ticket_and_its_printer_gets_the_job(bus: Bus) -> None:
    kiosk, _ = bus.device("kiosk-01")
    _, printer = bus.device("printer-kiosk-01", bus.topics.device("printer-kiosk-01", "job"), replies=False)
    reply = kiosk.request(
        "ticket.issue",
        ticket_request(
            "kiosk-01", group="police", identity={"method": "id_card", "id_number": id_number(1), "name": "张小三"}
        ),
    )
    assert reply.status == "ok", reply.error
    assert reply.data is not None and reply.data["ticket"] == "A001" and reply.data["group_name"] == "公安服务"
    job = printer.wait_for(lambda t, p: p is not None and p.get("job_id") == reply.data["print_job_id"])  # type: ignore[index]
    assert job is not None and job["kind"] == "ticket"
    assert job["document"]["ticket"] == "A001" and job["document"]["masked_name"] == "张*三"
    assert job["document"]["hall_name"] == "南山区政务服务中心"
    assert id_number(1) not in str(job)


def test_a_retried_request_makes_one_ticket(bus: Bus) -> None:
    kiosk, _ = bus.device("kiosk-02")
    request = ticket_request("kiosk-02", group="consult")
    replies = [kiosk.request("ticket.issue", request) for _ in range(3)]
    assert {r.data["ticket"] for r in replies if r.data} == {"G001"}
    assert [r.status for r in replies] == ["ok"] * 3
    assert ticket_count(bus) == 1


def test_refusals_are_replied_once_with_a_code(bus: Bus) -> None:
    kiosk, _ = bus.device("kiosk-01")
    refused = kiosk.request("ticket.issue", ticket_request("kiosk-01", group="police"))
    assert refused.status == "error" and refused.error is not None
    assert refused.error.code == "identity_required" and "实名" in refused.error.message
    bad_id = kiosk.request(
        "ticket.issue",
        ticket_request("kiosk-01", group="police", identity={"method": "id_card", "id_number": "440305199001011231"}),
    )
    assert bad_id.error is not None and bad_id.error.code == "invalid"


def test_caller_acts_only_on_its_own_window(bus: Bus) -> None:
    caller, _ = bus.device("caller-w05")
    reply = caller.request("window.call_next", window_request("caller-w05", "w03"))
    assert reply.status == "error" and reply.error is not None and reply.error.code == "forbidden"
    ok = caller.request("window.call_next", window_request("caller-w05", "w05"))
    assert ok.status == "ok" and ok.data is not None and ok.data["ticket"] is None


def test_kiosk_cannot_call_a_window_at_all(bus: Bus) -> None:
    # The broker's ACL drops the publish; the server never sees it, so the kiosk gets no answer.
    kiosk, _ = bus.device("kiosk-01")
    try:
        kiosk.request("window.call_next", window_request("kiosk-01", "w05"), timeout_s=0.5, attempts=1)
        raise AssertionError("a kiosk must not reach window actions")
    except BusTimeout:
        pass


def test_a_call_reaches_the_displays(bus: Bus) -> None:
    _, display = bus.device(
        "display-w05",
        bus.topics.call(),
        bus.topics.window_state("w05"),
        bus.topics.calls_recent(),
        replies=False,
    )
    kiosk, _ = bus.device("kiosk-01")
    kiosk.request(
        "ticket.issue",
        ticket_request("kiosk-01", group="police", identity={"method": "id_card", "id_number": id_number(2)}),
    )
    caller, _ = bus.device("caller-w05")
    reply = caller.request("window.call_next", window_request("caller-w05", "w05"))
    assert reply.data is not None and reply.data["ticket"]["number"] == "A001"
    call = display.wait_for(lambda t, p: t == bus.topics.call())
    assert call is not None
    assert call["text"] == "请A001号到5号窗口办理" and call["speech"] == "请A零零幺号到五号窗口办理"
    assert call["recall"] is False
    state = display.wait_for(lambda t, p: t == bus.topics.window_state("w05") and p is not None and p["serving"])
    assert state is not None and state["serving"] == "A001" and state["staff_display_name"]
    caller.request("window.recall", window_request("caller-w05", "w05"))
    recall = display.wait_for(lambda t, p: t == bus.topics.call() and p is not None and p["recall"])
    assert recall is not None and recall["text"].startswith("重呼")
    recent = display.wait_for(lambda t, p: t == bus.topics.calls_recent() and p is not None and len(p["calls"]) == 2)
    assert recent is not None and recent["calls"][0]["recall"] is True  # newest first


def test_rest_actions_are_published_too(bus: Bus) -> None:
    _, display = bus.device("display-w14", bus.topics.window_state("w14"), replies=False)
    response = bus.http.put("/api/v1/windows/w14/groups", json={"groups": ["consult"]})
    assert response.status_code == 200
    state = display.wait_for(lambda t, p: p is not None and p["groups"] == ["consult"])
    assert state is not None and state["name"] == "14号窗口"
    bus.http.post("/api/v1/windows/w14/pause", json={"reason": "系统维护"})
    paused = display.wait_for(lambda t, p: p is not None and p["status"] == "paused")
    assert paused is not None and paused["status_reason"] == "系统维护"


def test_a_reconnecting_display_gets_the_whole_state(bus: Bus) -> None:
    bus.http.post("/api/v1/tickets", json={"group": "consult"})
    bus.http.post("/api/v1/windows/w16/call-next")
    bus.gateway.drain()
    time.sleep(0.2)
    _, display = bus.device(
        "hall-display-1", *bus.topics.public(), bus.topics.device("hall-display-1", "config"), replies=False
    )
    states = display.wait_for(lambda t, p: t == bus.topics.window_state("w20"))
    assert states is not None
    assert len([t for t, _ in display.messages if t.endswith("/state") and "/window/" in t]) == 20
    queue = display.wait_for(lambda t, p: t == bus.topics.queue_state())
    assert queue is not None and {g["group"] for g in queue["groups"]} >= {"police", "consult"}
    recent = display.wait_for(lambda t, p: t == bus.topics.calls_recent())
    assert recent is not None and recent["calls"][0]["ticket"] == "G001"
    catalog = display.wait_for(lambda t, p: t == bus.topics.catalog_version())
    assert catalog is not None and catalog["url"] == "http://hall.test:8000/api/v1/catalog"
    assert catalog["etag"] == f'"{catalog["version"]}"'
    config = display.wait_for(lambda t, p: t.endswith("/config"))
    assert config is not None and config["device_id"] == "hall-display-1" and config["profile"]["recent_calls"] == 8
    online = display.wait_for(lambda t, p: t == bus.topics.server_availability())
    assert online is not None and online["state"] == "online"


def test_device_availability_and_last_will(bus: Bus) -> None:
    bus.device("eval-w03", replies=False)
    deadline = time.time() + 5
    while not bus.gateway.seen["eval-w03"].online and time.time() < deadline:
        time.sleep(0.05)
    assert bus.gateway.seen["eval-w03"].online
    # A device killed without a clean disconnect: the broker publishes its last will.
    account = device_account(bus.secret_dir, "caller-w07")
    will = bus.topics.device("caller-w07", "availability")
    online = '{"ts":"2026-11-23T09:00:00+08:00","state":"online","kind":"caller","version":"x"}'
    offline = '{"ts":"2026-11-23T09:00:00+08:00","state":"offline","kind":"caller","version":"x"}'
    proc = subprocess.Popen(
        [
            "mosquitto_pub",
            "-h",
            bus.broker.host,
            "-p",
            str(bus.broker.port),
            "-V",
            "mqttv5",
            "-u",
            account.username,
            "-P",
            account.password,
            "-i",
            "caller-w07",
            "-q",
            "1",
            "-r",
            "-t",
            will,
            "--will-topic",
            will,
            "--will-payload",
            offline,
            "--will-retain",
            "--will-qos",
            "1",
            "-l",
        ],
        stdin=subprocess.PIPE,
    )
    assert proc.stdin is not None
    proc.stdin.write(online.encode() + b"\n")  # -l: publish each line read, stay connected
    proc.stdin.flush()
    deadline = time.time() + 5
    while not bus.gateway.seen["caller-w07"].online and time.time() < deadline:
        time.sleep(0.05)
    assert bus.gateway.seen["caller-w07"].online
    proc.kill()
    proc.wait()
    deadline = time.time() + 5
    while bus.gateway.seen["caller-w07"].online and time.time() < deadline:
        time.sleep(0.05)
    assert not bus.gateway.seen["caller-w07"].online
    listing = {d["id"]: d for d in bus.http.get("/api/v1/devices").json()}
    assert listing["caller-w07"]["online"] is False and listing["eval-w03"]["online"] is True
    assert listing["caller-w07"]["window"] == "w07" and len(listing) == 91


def test_printer_status_is_tracked(bus: Bus) -> None:
    printer, _ = bus.device("printer-w05", replies=False)
    from broker.messages import DeviceStatus

    printer.publish(
        bus.topics.device("printer-w05", "status"),
        DeviceStatus(ts=time_now(), ok=False, paper="out", cover="closed"),
        retain=True,
    )
    deadline = time.time() + 5
    while bus.gateway.seen["printer-w05"].status.get("paper") != "out" and time.time() < deadline:
        time.sleep(0.05)
    listing = {d["id"]: d for d in bus.http.get("/api/v1/devices").json()}
    assert listing["printer-w05"]["status"]["paper"] == "out"


def test_every_window_action_over_the_bus(bus: Bus) -> None:
    _, w06 = bus.device("display-w06", bus.topics.window_state("w06"), replies=False)
    kiosk, _ = bus.device("kiosk-02")
    for n in range(3):
        kiosk.request(
            "ticket.issue",
            ticket_request("kiosk-02", group="police", identity={"method": "id_card", "id_number": id_number(n)}),
        )
    caller, _ = bus.device("caller-w05")

    def act(action: str, **kw: object) -> dict:  # type: ignore[type-arg]
        reply = caller.request(f"window.{action}", window_request("caller-w05", "w05", **kw))
        assert reply.status == "ok", (action, reply.error)
        assert reply.data is not None
        return reply.data

    first = act("call_next")["ticket"]
    assert act("start")["ticket"]["state"] == "serving"
    assert act("suspend", reason="复印材料")["window"]["serving"] is None
    assert act("call_next")["ticket"]["number"] == "A002"
    assert act("no_show")["ticket"]["state"] == "no_show"
    assert act("resume_ticket", ticket_id=first["id"])["ticket"]["state"] == "serving"
    unknown = WindowAction.model_construct(**{**window_request("caller-w05", "w05").model_dump(), "outcome": "随便"})
    bad = caller.request("window.finish", unknown)  # a device that sends an outcome the contract does not know
    assert bad.status == "error" and bad.error is not None and bad.error.code == "invalid"
    assert "当场办结" in bad.error.message
    catalog = bus.gateway.ctx.catalog
    item = next(c for c, d in catalog.domain_of.items() if d == "residence" and c in catalog.items)
    missing = [catalog.items[item].materials[0].name]
    done = act("finish", outcome="补正", item_code=item, materials=missing)
    assert done["ticket"]["outcome"] == "补正" and done["ticket"]["item_code"] == item
    act("call_next")
    moved = act("transfer", to_window="w06")
    assert moved["ticket"]["target_window_id"] == "w06"
    assert act("pause", reason="午间轮换")["window"]["status"] == "paused"
    refused = caller.request("window.call_next", window_request("caller-w05", "w05"))
    assert refused.error is not None and refused.error.code == "window_not_open"
    assert act("resume")["window"]["status"] == "open"
    # The transfer target's display was told too: w06's state was republished.
    assert len(w06.on(bus.topics.window_state("w06"))) >= 2


def test_evaluator_is_prompted_and_its_rating_recorded(bus: Bus) -> None:
    from broker.messages import EvaluationSubmit

    evaluator, prompts = bus.device("eval-w16", bus.topics.device("eval-w16", "prompt"))
    bus.http.post("/api/v1/tickets", json={"group": "consult"})
    bus.http.post("/api/v1/windows/w16/call-next")
    bus.http.post("/api/v1/windows/w16/start")
    bus.http.post("/api/v1/windows/w16/finish", json={"outcome": "咨询"})
    prompt = prompts.wait_for(lambda t, p: p is not None)
    assert prompt is not None and prompt["ticket"] == "G001" and prompt["window_id"] == "w16"
    assert prompt["staff_display_name"]
    rating = EvaluationSubmit(
        ts=time_now(), request_id=Request.new_id(), device_id="eval-w16", visit_id=prompt["visit_id"], level=2
    )
    reply = evaluator.request("evaluation.submit", rating)
    assert reply.status == "ok" and reply.data is not None and reply.data["is_bad"] is True
    assert reply.data["rectification_id"] is not None  # 不满意 opens a rectification case
    cleared = prompts.wait_for(lambda t, p: p is None)  # the retained prompt is cleared once answered
    assert cleared is None
    again = evaluator.request("evaluation.submit", rating.model_copy(update={"request_id": Request.new_id()}))
    assert again.error is not None and again.error.code == "already_rated"


def test_client_retries_on_timeout_and_gets_one_ticket(bus: Bus) -> None:
    import threading

    kiosk, _ = bus.device("kiosk-01")
    hold = threading.Event()
    bus.gateway._work.put(lambda: hold.wait(10))  # the server is busy: the kiosk's first tries time out
    result = []
    request = ticket_request("kiosk-01", group="consult")
    asker = threading.Thread(target=lambda: result.append(kiosk.request("ticket.issue", request, 1.0, 3)))
    asker.start()
    deadline = time.time() + 10
    while bus.gateway._work.qsize() < 3 and time.time() < deadline:  # all three attempts queued at the server
        time.sleep(0.02)
    assert bus.gateway._work.qsize() == 3
    hold.set()
    asker.join(timeout=10)
    assert result and result[0].status == "ok" and result[0].data is not None
    bus.gateway.drain()
    assert ticket_count(bus) == 1
    with Session(bus.gateway.engine) as s:
        from hallserver.models import RequestLog

        assert s.exec(select(func.count()).select_from(RequestLog)).one() == 1


def test_checkin_and_progress_over_the_bus(bus: Bus) -> None:
    from broker.messages import AppointmentCheckin, ProgressQuery

    item = "11440300MB2D41730K000172102000000"  # 居住证申领, bookable
    person = id_number(31)
    booked = bus.http.post(
        "/api/v1/appointments/bookings",
        json={"item_code": item, "slot_start": "2026-11-23T09:30:00+08:00", "identity": {"id_number": person}},
    )
    assert booked.status_code == 201, booked.text
    kiosk, _ = bus.device("kiosk-02")
    checkin = AppointmentCheckin(
        ts=time_now(),
        request_id=Request.new_id(),
        device_id="kiosk-02",
        booking_code=booked.json()["code"],
        identity={"method": "id_card", "id_number": person},  # type: ignore[arg-type]
    )
    reply = kiosk.request("appointment.checkin", checkin)
    assert reply.status == "ok" and reply.data is not None
    assert reply.data["ticket"]["number"] == "Y001" and reply.data["walk_in"] is False
    # Serve it as an accepted case, then ask for progress at the kiosk with the ID card.
    window = {"Authorization": bus.http.headers["Authorization"]}
    for step in ("call-next", "start"):
        assert bus.http.post(f"/api/v1/windows/w05/{step}", headers=window).status_code == 200
    done = bus.http.post("/api/v1/windows/w05/finish", json={"outcome": "受理"}, headers=window)
    assert done.status_code == 200, done.text
    query = ProgressQuery(
        ts=time_now(),
        request_id=Request.new_id(),
        device_id="kiosk-02",
        identity={"method": "id_card", "id_number": person},  # type: ignore[arg-type]
    )
    progress = kiosk.request("progress.query", query)
    assert progress.status == "ok" and progress.data is not None
    (case,) = progress.data["cases"]
    assert case["item_name"] == "居住证申领" and case["status"] == "已受理" and case["serial_no"].startswith(item)


def test_a_late_rating_does_not_clear_the_next_visits_prompt(bus: Bus) -> None:
    from broker.messages import EvaluationSubmit

    evaluator, prompts = bus.device("eval-w16", bus.topics.device("eval-w16", "prompt"))
    visits = []
    for _ in range(2):
        bus.http.post("/api/v1/tickets", json={"group": "consult"})
        for step in ("call-next", "start"):
            bus.http.post(f"/api/v1/windows/w16/{step}")
        bus.http.post("/api/v1/windows/w16/finish", json={"outcome": "咨询"})
        prompt = prompts.wait_for(lambda t, p, n=len(visits): p is not None and p["ticket"] == f"G00{n + 1}")
        visits.append(prompt["visit_id"])  # type: ignore[index]
    late = EvaluationSubmit(
        ts=time_now(), request_id=Request.new_id(), device_id="eval-w16", visit_id=visits[0], level=5
    )
    assert evaluator.request("evaluation.submit", late).status == "ok"
    bus.gateway.drain()
    time.sleep(0.3)
    assert prompts.on(bus.topics.device("eval-w16", "prompt"))[-1]["visit_id"] == visits[1]  # type: ignore[index]
    now = EvaluationSubmit(
        ts=time_now(), request_id=Request.new_id(), device_id="eval-w16", visit_id=visits[1], level=5
    )
    assert evaluator.request("evaluation.submit", now).status == "ok"
    assert prompts.wait_for(lambda t, p: p is None) is None  # answered: cleared
