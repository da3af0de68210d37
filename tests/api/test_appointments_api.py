"""Appointments over HTTP: slots, book → check-in → ticket, cancel, sweep, and the error envelope."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from hallcore.clock import ManualClock
from hallserver.app import create_app
from hallserver.db import session_scope
from hallserver.models import Booking
from tests.conftest import hall_settings, local, login
from tests.integration.helpers import id_number

API = "/api/v1"
ITEM = "11440300MB2D41730K000172101000000"  # 居住登记 (公安服务, bookable 7 days ahead)
PERSON = id_number(1)


@pytest.fixture
def client(backend_client: TestClient) -> TestClient:
    assert backend_client.post(f"{API}/appointments/sweep").status_code == 401  # housekeeping is for managers
    backend_client.headers.update(login(backend_client, "m01"))
    return backend_client


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()["error"]
    assert body["code"] == code and set(body) == {"code", "message", "data"}
    return body


def book(client: TestClient, start: str, person: str = PERSON, name: str = "张小三") -> Any:
    body = {"item_code": ITEM, "slot_start": start, "identity": {"id_number": person, "name": name}}
    return client.post(f"{API}/appointments/bookings", json=body)


def test_book_then_check_in_over_http(client: TestClient, clock: ManualClock) -> None:
    day = ok(client.get(f"{API}/appointments/slots", params={"item_code": ITEM, "date": "2026-11-23"}))
    assert day["item_name"] == "居住登记" and day["bookable_until"] == "2026-11-30"
    first = day["slots"][0]
    assert first["start"] == "2026-11-23T09:30:00+08:00" and first["free"] == 4

    booking = ok(book(client, first["start"]), 201)
    assert len(booking["code"]) == 8 and booking["state_label"] == "已预约"
    assert booking["masked_name"] == "张*三" and booking["checkin_from"] == "2026-11-23T09:00:00+08:00"
    assert PERSON not in str(booking) and "张小三" not in str(booking)
    day = ok(client.get(f"{API}/appointments/slots", params={"item_code": ITEM, "date": "2026-11-23"}))
    assert day["slots"][0]["free"] == 3

    clock.set(local(2026, 11, 23, 9, 20))
    checkin = {"code": booking["code"], "identity": {"id_number": PERSON, "method": "id_card"}}
    done = ok(client.post(f"{API}/appointments/checkin", json=checkin))
    assert done["ticket"]["number"] == "Y001" and done["ticket"]["priority"] == "appointment"
    assert done["ticket"]["masked_name"] == "张*三" and done["walk_in"] is False
    assert done["booking"]["state"] == "checked_in" and "签到成功" in done["message"]
    assert PERSON not in str(done)
    assert ok(client.get(f"{API}/tickets", params={"number": "Y001"}))["state"] == "waiting"

    again = error(client.post(f"{API}/appointments/checkin", json=checkin), 409, "already_checked_in")
    assert again["data"]["ticket"] == "Y001" and "已于09:20签到" in again["message"]


def test_late_walk_in_and_sweep_over_http(client: TestClient, clock: ManualClock) -> None:
    late = ok(book(client, "2026-11-23T09:30:00+08:00"), 201)
    ok(book(client, "2026-11-23T09:30:00+08:00", person=id_number(2)), 201)
    clock.set(local(2026, 11, 23, 9, 46))
    done = ok(
        client.post(
            f"{API}/appointments/checkin",
            json={"code": late["code"], "identity": {"method": "id_card", "id_number": PERSON}},
        )
    )
    assert done["walk_in"] is True and done["ticket"]["number"] == "A001"
    assert ok(client.post(f"{API}/appointments/sweep")) == {"no_shows": 1, "suspended": 0}
    assert ok(client.post(f"{API}/appointments/sweep")) == {"no_shows": 0, "suspended": 0}


def test_cancel_over_http(client: TestClient) -> None:
    booking = ok(book(client, "2026-11-24T10:00:00+08:00"), 201)
    url = f"{API}/appointments/bookings/{booking['code']}/cancel"
    body = error(client.post(url, json={"id_number": id_number(2)}), 403, "not_holder")
    assert "本人" in body["message"]
    cancelled = ok(client.post(url, json={"id_number": PERSON}))
    assert cancelled["state"] == "cancelled" and cancelled["state_label"] == "已取消"
    assert "已取消" in error(client.post(url, json={"id_number": PERSON}), 409, "booking_not_active")["message"]
    slots = ok(client.get(f"{API}/appointments/slots", params={"item_code": ITEM, "date": "2026-11-24"}))
    assert {s["start"]: s["free"] for s in slots["slots"]}["2026-11-24T10:00:00+08:00"] == 4


def test_errors_carry_a_code_and_chinese_message(client: TestClient) -> None:
    body = error(
        client.get(f"{API}/appointments/slots", params={"item_code": "NOSUCH", "date": "2026-11-24"}),
        400,
        "unknown_item",
    )
    assert "事项目录" in body["message"] and body["data"] == {"item_code": "NOSUCH"}
    body = error(book(client, "2026-11-24T10:10:00+08:00"), 400, "no_such_slot")
    assert "不是可预约的时段" in body["message"]
    body = error(book(client, "2026-11-29T10:00:00+08:00"), 400, "no_such_slot")
    assert "休息日" in body["message"]
    body = error(book(client, "2026-11-24T10:00:00"), 400, "invalid")
    assert "时区" in body["message"]
    body = error(book(client, "2026-11-24T10:00:00+08:00", person="440305199001011231"), 400, "invalid")
    assert "校验位" in body["message"]
    for seed in range(1, 5):
        ok(book(client, "2026-11-24T10:00:00+08:00", person=id_number(seed)), 201)
    body = error(book(client, "2026-11-24T10:00:00+08:00", person=id_number(9)), 409, "slot_full")
    assert "约满" in body["message"] and body["data"]["slot_start"] == "2026-11-24T10:00:00+08:00"
    body = error(book(client, "2026-11-24T15:00:00+08:00"), 409, "already_booked")
    assert "每天只能预约一次" in body["message"]

    early = ok(book(client, "2026-11-23T11:00:00+08:00"), 201)
    body = error(
        client.post(
            f"{API}/appointments/checkin",
            json={"code": early["code"], "identity": {"method": "id_card", "id_number": PERSON}},
        ),
        400,
        "too_early",
    )
    assert body["message"] == "您预约的是11:00的时段，请于10:30后签到"
    assert body["data"] == {"checkin_from": "2026-11-23T10:30:00+08:00"}
    body = error(client.post(f"{API}/appointments/checkin", json={"code": early["code"]}), 400, "identity_required")
    assert "身份" in body["message"]
    body = error(
        client.post(
            f"{API}/appointments/checkin",
            json={"code": "ZZZZ9999", "identity": {"method": "id_card", "id_number": PERSON}},
        ),
        404,
        "not_found",
    )
    assert "预约码" in body["message"]
    body = error(client.post(f"{API}/appointments/bookings", json={"item_code": ITEM}), 422, "invalid")
    assert body["message"].startswith("请求参数不正确") and "slot_start" in body["data"]["fields"]


def test_routes_are_documented(client: TestClient) -> None:
    paths = ok(client.get("/openapi.json"))["paths"]
    for path in ("/slots", "/bookings", "/bookings/{code}/cancel", "/checkin", "/sweep"):
        assert f"{API}/appointments{path}" in paths


def test_no_shows_are_swept_while_the_server_runs(database_url: str, clock: ManualClock, tmp_path: Path) -> None:
    import time

    settings = hall_settings(database_url, tmp_path, housekeeping_s=0.2)
    with TestClient(create_app(settings, clock)) as c:
        booked = ok(
            c.post(
                f"{API}/appointments/bookings",
                json={"item_code": ITEM, "slot_start": "2026-11-23T10:00:00+08:00", "identity": {"id_number": PERSON}},
            ),
            201,
        )
        clock.advance(hours=2)  # the slot and its 15-minute grace have passed without a check-in
        deadline = time.time() + 10
        state = None
        while time.time() < deadline:
            state = c.app.state.hall  # type: ignore[attr-defined]
            with session_scope(state.engine) as s:
                row = s.exec(select(Booking).where(Booking.code == booked["code"])).one()
                if row.state == "no_show":
                    break
            time.sleep(0.1)
        assert row.state == "no_show"
