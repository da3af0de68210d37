"""One command and one typed reply per action: REST and the bus accept the same fields, refuse the same
mistakes with the same codes, and answer in the same shape (hallcore.commands, hallserver.views)."""

from __future__ import annotations

from typing import Any

from broker.messages import Request, TicketIssue, WindowAction
from tests.conftest import login
from tests.gateway.fixtures import Bus
from tests.gateway.test_gateway import time_now
from tests.integration.helpers import id_number

API = "/api/v1"


def _both(bus: Bus, command: dict[str, Any]) -> tuple[Any, Any]:
    """Send one ticket.issue command over REST (as a staff desk) and over the bus (as kiosk-01)."""
    rest = bus.http.post(f"{API}/tickets", json=command, headers=login(bus.http, "m01"))
    kiosk, _ = bus.device("kiosk-01")
    request = TicketIssue.model_construct(ts=time_now(), request_id=Request.new_id(), **command)
    return rest, kiosk.request("ticket.issue", request)


def test_ticket_issue_is_the_same_command_and_reply_on_both_channels(bus: Bus) -> None:
    rest, reply = _both(bus, {"group": "consult", "priority_reason": None})
    assert rest.status_code == 201 and reply.status == "ok" and reply.data is not None
    by_rest = rest.json()
    assert set(by_rest) == set(reply.data)  # one reply model: the same fields
    for key in ("group", "group_name", "masked_name", "item_name"):
        assert by_rest[key] == reply.data[key]
    assert (by_rest["ticket"], reply.data["ticket"]) == ("G001", "G002")
    assert by_rest["lookup_url"] != reply.data["lookup_url"] and "/m/t/" in by_rest["lookup_url"]
    assert by_rest["print_job_id"] is None  # a desk ticket is not sent to a kiosk's printer


def test_the_same_mistakes_are_refused_the_same_way(bus: Bus) -> None:
    cases = [
        ({"group": "police"}, "identity_required"),  # real-name group without identity: the service refuses
        ({"priority": "normal"}, "invalid"),  # neither item_code nor group (was checked on the bus only)
        ({"group": "police", "identity": {"id_number": id_number(5)}}, "invalid"),  # method unstated
        ({"group": "consult", "appointment_at": "2026-11-23T09:00:00", "priority": "appointment"}, "invalid"),
    ]
    for command, code in cases:
        rest, reply = _both(bus, command)
        assert rest.status_code in (400, 422) and rest.json()["error"]["code"] == code, (command, rest.text)
        assert reply.status == "error" and reply.error is not None and reply.error.code == code, command


def test_a_window_action_answers_alike_on_both_channels(bus: Bus) -> None:
    staff = login(bus.http, "s05")
    for seed in (6, 7):
        bus.http.post(
            f"{API}/tickets",
            json={"group": "police", "identity": {"id_number": id_number(seed), "method": "id_card"}},
            headers=staff,
        )
    by_rest = bus.http.post(f"{API}/windows/w05/call-next", headers=staff).json()
    caller, _ = bus.device("caller-w06")
    call = WindowAction(ts=time_now(), request_id=Request.new_id(), window_id="w06")
    reply = caller.request("window.call_next", call)
    assert reply.status == "ok" and reply.data is not None
    assert set(by_rest) == set(reply.data) == {"window", "ticket", "message", "printed"}
    assert set(by_rest["window"]) == set(reply.data["window"]) and set(by_rest["ticket"]) == set(reply.data["ticket"])
    assert (by_rest["ticket"]["number"], reply.data["ticket"]["number"]) == ("A001", "A002")
    assert reply.data["message"] == "请A002号到6号窗口办理"
