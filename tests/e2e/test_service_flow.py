"""A citizen's whole case over HTTP on an injected clock, across the Spring Festival: book → check in on a
调休 Saturday → 补正 → come back → accepted with a serial number → progress → 非常不满意 → rectification →
follow-up; with personal data kept out of the database file and the logs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hallcore.clock import ManualClock
from hallserver.app import create_app
from tests.conftest import fresh_sqlite, hall_settings, local, login
from tests.integration.helpers import id_number

API = "/api/v1"
ITEM = "11440300MB2D41730K000172102000000"  # 居住证申领
PERSON = id_number(77)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture
def hall(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[TestClient, ManualClock, Path]]:
    db = tmp_path / "hall.db"
    clock = ManualClock(local(2026, 2, 12, 10, 0))  # Thursday before the Spring Festival
    settings = hall_settings(fresh_sqlite(sqlite_template, tmp_path), tmp_path)
    with TestClient(create_app(settings, clock)) as client:
        yield client, clock, db


def test_a_case_from_booking_to_follow_up(hall: tuple[TestClient, ManualClock, Path], caplog: Any) -> None:
    client, clock, db = hall
    caplog.set_level(logging.DEBUG)
    guide = ok(client.get(f"{API}/catalog/items/{ITEM}"))
    desk = login(client, "m01")
    window = login(client, "s05")  # A of w05 (公安服务), 首席代表 of 市公安局

    # Thursday: book Saturday 2026-02-14 10:00 — a 调休 working Saturday with weekday hours.
    slot = "2026-02-14T10:00:00+08:00"
    slots = ok(client.get(f"{API}/appointments/slots", params={"item_code": ITEM, "date": "2026-02-14"}))["slots"]
    assert any(s["start"] == slot and s["free"] > 0 for s in slots)
    booking = ok(
        client.post(
            f"{API}/appointments/bookings",
            json={"item_code": ITEM, "slot_start": slot, "identity": {"id_number": PERSON, "name": "李晓明"}},
        ),
        201,
    )

    # Saturday 09:50: check in on time → an appointment ticket; the window calls it first.
    clock.set(local(2026, 2, 14, 9, 50))
    window = login(client, "s05")  # a new working day, a new login (sessions last 12 hours)
    checked = ok(
        client.post(
            f"{API}/appointments/checkin",
            json={"code": booking["code"], "identity": {"method": "id_card", "id_number": PERSON}},
        )
    )
    assert checked["ticket"]["number"] == "Y001"
    assert ok(client.post(f"{API}/windows/w05/call-next", headers=window))["ticket"]["number"] == "Y001"
    ok(client.post(f"{API}/windows/w05/start", headers=window))
    missing = [m["name"] for m in guide["materials"] if m["required"]][:2]
    clock.advance(minutes=8)
    first = ok(client.post(f"{API}/windows/w05/finish", headers=window, json={"outcome": "补正", "materials": missing}))
    assert first["ticket"]["outcome"] == "补正"
    visits = ok(client.get(f"{API}/visits", params={"window_id": "w05", "day": "2026-02-14"}, headers=window))
    assert visits[0]["materials"] == missing
    # 5 working days, across the Spring Festival (2/15–2/23): 2/24, 2/25, 2/26, 2/27 and the 调休 Saturday 2/28.
    assert visits[0]["deadline"] == "2026-02-28"
    assert visits[0]["applicant"]["name"] == "李*明" and "*" in visits[0]["applicant"]["id"]

    # Tuesday 2026-02-24, the first working day after the holiday: back with everything → accepted.
    clock.set(local(2026, 2, 24, 9, 30))
    desk, window = login(client, "m01"), login(client, "s05")
    ticket = ok(
        client.post(
            f"{API}/tickets",
            headers=desk,
            json={"item_code": ITEM, "identity": {"method": "id_card", "id_number": PERSON, "name": "李晓明"}},
        ),
        201,
    )
    assert ticket["ticket"] == "A001"
    ok(client.post(f"{API}/windows/w05/call-next", headers=window))
    ok(client.post(f"{API}/windows/w05/start", headers=window))
    clock.advance(minutes=12)
    ok(client.post(f"{API}/windows/w05/finish", headers=window, json={"outcome": "受理", "delivery": "邮寄"}))
    second = ok(client.get(f"{API}/visits", params={"window_id": "w05"}, headers=window))[0]
    serial = second["serial_no"]
    assert serial == f"{ITEM}20260224" + "0001" + "00001"  # item code + date + hall code + daily sequence

    # Progress: by serial number and by ID card; promised in working days from the calendar.
    by_serial = ok(client.get(f"{API}/progress", params={"serial_no": serial}))
    by_id = ok(client.post(f"{API}/progress", json={"identity": {"method": "id_card", "id_number": PERSON}}))
    assert by_serial == by_id and by_serial[0]["status"] == "已受理" and by_serial[0]["item_name"] == "居住证申领"
    promised = guide["time_limit"]["promised_days"]
    assert by_serial[0]["promised_date"] == _working_days_after(client, "2026-02-24", promised)

    # 非常不满意 (1 on the wire) → a rectification owned by 市公安局 and w05, due in 7 days.
    rated = ok(
        client.post(
            f"{API}/evaluations",
            json={
                "visit_id": second["id"],
                "level": 1,
                "indicators": {"attitude": 1},
                "comment": "等太久",
                "channel": "qr",
                "identity": {"method": "id_card", "id_number": PERSON},
            },
        ),
        201,
    )
    assert rated["is_bad"] is True and rated["evaluation"]["label"] == "非常不满意"
    card = {"method": "id_card", "id_number": PERSON}  # the card that took the ticket proves the visit
    again = client.post(f"{API}/evaluations", json={"visit_id": second["id"], "level": 5, "identity": card})
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_rated"
    case_id = rated["rectification_id"]
    desk_view = ok(client.get(f"{API}/rectifications", headers=desk))
    assert desk_view[0]["department"] == "市公安局" and desk_view[0]["deadline"] == "2026-03-03"
    early_close = client.post(f"{API}/rectifications/{case_id}/close", headers=desk, json={"note": "结案"})
    assert early_close.status_code == 409  # nothing is closed without the citizen's feedback
    ok(client.post(f"{API}/rectifications/{case_id}/callback", headers=window, json={"note": "已电话回访，致歉"}))
    ok(
        client.post(
            f"{API}/rectifications/{case_id}/rectify",
            headers=window,
            json={"measures": "高峰时段增开窗口", "result": "等候时间缩短"},
        )
    )
    ok(client.post(f"{API}/rectifications/{case_id}/followup", json={"level": 5, "identity": card}), 201)
    closed = ok(client.post(f"{API}/rectifications/{case_id}/close", headers=desk, json={"note": "群众满意"}))
    assert closed["state"] == "closed"

    # The case moves on; the citizen sees it.
    for update in (
        {"status": "审查中"},
        {"status": "已办结", "result": "准予办理，制发居住证", "delivery": "post"},
        {"status": "已邮寄", "tracking_no": "SF1234567890"},
    ):
        ok(client.post(f"{API}/cases/{serial}/status", headers=window, json=update))
    assert ok(client.get(f"{API}/progress", params={"serial_no": serial}))[0]["status"] == "已邮寄"

    # The month's report shows both visits, the 差评 and the rectification done on time.
    report = ok(
        client.get(f"{API}/reports", headers=desk, params={"period": "month", "day": "2026-02-24", "by": "department"})
    )
    police = next(r for r in report["rows"] if r["key"] == "市公安局")
    assert (police["visits"], police["rated"], police["bad"], police["good_rate"]) == (2, 1, 1, 0.0)
    assert (police["rectifications"], police["rectified_on_time_rate"]) == (1, 1.0)
    assert report["from"] == "2026-02-01" and report["to"] == "2026-02-28"
    staff_only = client.get(f"{API}/reports", headers=login(client, "s06"))
    assert staff_only.status_code == 403

    # Staff and manager views never carry the rater's identity.
    for body in (ok(client.get(f"{API}/evaluations", headers=desk)), desk_view):
        text = str(body)
        assert "rater" not in text and "person" not in text and PERSON not in text

    # Revealing the applicant's identity is possible, with a purpose, and audited.
    person_id = second["applicant"]["person_id"]
    refused = client.post(f"{API}/people/{person_id}/identity", headers=window, json={"purpose": ""})
    assert refused.status_code == 422
    revealed = ok(client.post(f"{API}/people/{person_id}/identity", headers=window, json={"purpose": "邮寄证件核对"}))
    assert revealed["id_number"] == PERSON and revealed["name"] == "李晓明"
    hall_state = client.app.state.hall  # type: ignore[attr-defined]
    from sqlmodel import Session, select

    from hallserver.models import AuditEntry

    with Session(hall_state.engine) as s:
        audit = s.exec(select(AuditEntry)).all()
    assert [(a.actor, a.person_id, a.purpose) for a in audit] == [("s05", person_id, "邮寄证件核对")]

    # No plaintext ID number or name in the database file, nor in any log line.
    hall_state.engine.dispose()
    raw = b"".join(p.read_bytes() for p in db.parent.glob("hall.db*"))
    assert PERSON.encode() not in raw and "李晓明".encode() not in raw
    assert PERSON not in caplog.text and "李晓明" not in caplog.text


def _working_days_after(client: TestClient, day: str, n: int) -> str:
    from datetime import date

    calendar = client.app.state.hall.ctx.calendar  # type: ignore[attr-defined]
    return calendar.add_working_days(date.fromisoformat(day), n).isoformat()
