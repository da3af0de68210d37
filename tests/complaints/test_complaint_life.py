"""A complaint's whole life over REST on SQLite and PostgreSQL: recorded at the window on a Friday, passed to
the competent department within 2 working days (over the weekend), answered, printed as a written reply,
closed with the citizen's feedback and counted in the month's figures; roles, bad input, the public intake,
overdue warnings, and no plaintext name or phone anywhere."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from hallcore.clock import ManualClock
from hallserver.db import session_scope
from hallserver.services import complaints
from tests.conftest import local, login

PHONE = "13912345678"
NAME = "欧阳小明"
BODY = {
    "kind": "cannot_do",
    "content": "社保关系转移在三个窗口之间来回跑，至今没有办成",
    "item_code": None,
    "name": NAME,
    "phone": PHONE,
    "written_reply": True,
}


def _all_text(client: TestClient) -> str:
    engine = client.app.state.hall.engine  # type: ignore[attr-defined]
    out = []
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                out.append(" ".join(str(v) for v in row))
    return "\n".join(out)


def test_recorded_transferred_answered_closed_and_counted(
    backend_client: TestClient, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = backend_client
    clock.set(local(2026, 11, 27, 10, 0))  # a Friday
    staff, manager = login(client, "s18"), login(client, "m01")

    r = client.post("/api/v1/complaints", json=BODY, headers=staff)
    assert r.status_code == 201, r.text
    rec = r.json()
    ref = rec["reference"]
    assert rec["due"] == "2026-12-04"  # 5 working days until classified
    assert rec["masked_name"] == "欧**明" and rec["masked_phone"] == "139****5678"
    assert rec["channel"] == "window" and rec["state"] == "received"

    # staff may record but not handle
    r = client.post(f"/api/v1/complaints/{ref}/classify", json={"in_remit": False}, headers=staff)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    # out of the remit needs the department
    r = client.post(f"/api/v1/complaints/{ref}/classify", json={"in_remit": False}, headers=manager)
    assert r.status_code == 400 and "主管部门" in r.json()["error"]["message"]
    r = client.post(
        f"/api/v1/complaints/{ref}/classify", json={"in_remit": False, "department": "区人力资源局"}, headers=manager
    )
    assert r.status_code == 200, r.text
    assert r.json()["due"] == "2026-12-01"  # Fri + 2 working days over the weekend: Tuesday
    # answering before it is passed on is refused
    r = client.post(f"/api/v1/complaints/{ref}/answer", json={"reply": "已经处理完毕"}, headers=manager)
    assert r.status_code == 409 and r.json()["error"]["code"] == "wrong_state"

    clock.set(local(2026, 11, 30, 15, 0))  # Monday: passed on in time (login tokens last a day)
    staff, manager = login(client, "s18"), login(client, "m01")
    r = client.post(f"/api/v1/complaints/{ref}/assign", json={"assignee": "区人力资源局"}, headers=manager)
    assert r.status_code == 200 and r.json()["state"] == "assigned"
    r = client.get(f"/api/v1/complaints/{ref}/written-reply", headers=staff)
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_answered"

    clock.set(local(2026, 12, 3, 11, 0))
    staff, manager = login(client, "s18"), login(client, "m01")
    reply = "经与区人力资源局核实，社保关系转移已于12月2日办结，请留意短信通知。"
    r = client.post(f"/api/v1/complaints/{ref}/answer", json={"reply": reply}, headers=manager)
    assert r.status_code == 200 and r.json()["state"] == "answered"
    doc = client.get(f"/api/v1/complaints/{ref}/written-reply", headers=staff).json()
    assert doc["title"] == "投诉（办不成事）书面答复" and doc["reply"] == reply
    assert doc["masked_name"] == "欧**明" and doc["department"] == "区人力资源局"
    assert NAME not in str(doc) and PHONE not in str(doc)

    r = client.post(f"/api/v1/complaints/{ref}/close", json={"feedback": "satisfied"}, headers=staff)
    assert r.status_code == 403  # staff cannot close
    r = client.post(f"/api/v1/complaints/{ref}/close", json={"feedback": "great"}, headers=manager)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid"
    r = client.post(
        f"/api/v1/complaints/{ref}/close", json={"feedback": "satisfied", "comment": "很快"}, headers=manager
    )
    assert r.status_code == 200 and r.json()["feedback_label"] == "满意"

    detail = client.get(f"/api/v1/complaints/{ref}", headers=staff).json()
    assert [s["action"] for s in detail["steps"]] == ["received", "classified", "transferred", "answered", "closed"]
    assert [s["actor"] for s in detail["steps"]] == ["s18", "m01", "m01", "m01", "m01"]
    assert detail["overdue"] is False

    hall = client.app.state.hall  # type: ignore[attr-defined]
    with session_scope(hall.engine) as s:
        figures = complaints.month_figures(s, hall.ctx, date(2026, 11, 1), date(2026, 11, 30))
        december = complaints.month_figures(s, hall.ctx, date(2026, 12, 1), date(2026, 12, 31))
    assert figures["received"] == 1 and figures["cannot_do"] == 1 and figures["out_of_remit"] == 1
    assert figures["on_time"] == 1 and figures["overdue"] == 0 and figures["closed"] == 1
    assert figures["satisfied"] == 1 and figures["unsatisfied"] == 0
    assert december["received"] == 0

    stored = _all_text(client)
    assert PHONE not in stored and NAME not in stored
    assert PHONE not in caplog.text and NAME not in caplog.text


def test_overdue_and_anonymous_and_public_intake(hall_client: TestClient, clock: ManualClock) -> None:
    client = hall_client
    staff, manager = login(client, "s18"), login(client, "m01")
    body = {"kind": "complaint", "content": "窗口工作人员态度生硬", "written_reply": False}
    ref = client.post("/api/v1/complaints", json=body, headers=staff).json()["reference"]
    client.post(f"/api/v1/complaints/{ref}/classify", json={"in_remit": True}, headers=manager)
    assert client.get("/api/v1/complaints/overdue", headers=manager).json() == []

    clock.set(local(2026, 12, 1, 9, 0))  # Mon 23 Nov + 5 working days = Mon 30 Nov, now past
    staff, manager = login(client, "s18"), login(client, "m01")
    late = client.get("/api/v1/complaints/overdue", headers=manager).json()
    assert [c["reference"] for c in late] == [ref] and late[0]["overdue"] is True

    # an anonymous caller reads nothing
    for path in ("/api/v1/complaints", f"/api/v1/complaints/{ref}", "/api/v1/complaints/overdue"):
        r = client.get(path)
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"

    # the public intake: reference, due date and a Chinese message only
    r = client.post("/api/v1/public/complaints", json=body)
    assert r.status_code == 201, r.text
    assert set(r.json()) == {"reference", "due", "message"} and "已受理" in r.json()["message"]
    assert r.json()["due"] == "2026-12-08"

    words = client.post(
        "/api/v1/complaints", json=body | {"content": "请打13912345678或查110105198506141230"}, headers=staff
    ).json()["content"]
    assert "13912345678" not in words and "139****5678" in words and "1101**********1230" in words

    r = client.post("/api/v1/public/complaints", json=body | {"content": "太慢"})
    assert r.status_code == 422 and "content" in r.json()["error"]["message"]
    r = client.post("/api/v1/public/complaints", json=body | {"phone": "12345"})
    assert r.status_code == 400 and "手机号码" in r.json()["error"]["message"]
    r = client.post("/api/v1/public/complaints", json=body | {"written_reply": True})
    assert r.status_code == 400 and "书面答复" in r.json()["error"]["message"]
    r = client.post("/api/v1/public/complaints", json=body | {"item_code": "NOPE"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "unknown_item"

    # one client is cut off after a few submissions
    codes = [client.post("/api/v1/public/complaints", json=body).status_code for _ in range(6)]
    assert 429 in codes
    r = client.post("/api/v1/public/complaints", json=body)
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
