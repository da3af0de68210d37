"""The kiosk's progress query over the real bus shows what a department pushed: the real status, every step,
and — only for the applicant's own ID-card query — the reason of a 不予批准. The floor's alerts name
overdue cases and count those near their promise."""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

from broker.messages import ProgressQuery, Request
from hallserver.presentation.case_alerts import case_alerts
from hallserver.services import departments
from hallserver.services.case_deadlines import Watchlist, WatchRow
from tests.cases.conftest import API, ITEM, event, ok
from tests.gateway.fixtures import Bus
from tests.integration.helpers import id_number

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _now() -> datetime:
    return datetime.now(SHANGHAI)


def test_kiosk_progress_shows_the_departments_decision(bus: Bus) -> None:
    person = id_number(41)
    ident = {"method": "id_card", "id_number": person, "name": "王小丽"}
    ok(bus.http.post(f"{API}/tickets", json={"item_code": ITEM, "identity": ident}), 201)
    for step in ("call-next", "start"):
        ok(bus.http.post(f"{API}/windows/w05/{step}"))
    ok(bus.http.post(f"{API}/windows/w05/finish", json={"outcome": "受理"}))
    serial = ok(bus.http.get(f"{API}/visits", params={"window_id": "w05"}))[-1]["serial_no"]

    secret = departments.register(bus.http.app.state.department_secrets, "gongan", "市公安局")  # type: ignore[attr-defined]
    reason = "申请人未满足连续居住半年以上的申领条件"
    for n, body in enumerate((event(serial, "reviewing", 1), event(serial, "denied", 2, reason=reason))):
        raw = json.dumps(body, ensure_ascii=False).encode()
        ts = str(int(bus.clock.now().timestamp()))
        headers = {
            "X-Hallq-Department": "gongan",
            "X-Hallq-Timestamp": ts,
            "X-Hallq-Signature": departments.sign(secret, ts, raw),
        }
        ok(bus.http.post(f"{API}/departments/webhook", content=raw, headers=headers))
        bus.clock.advance(minutes=n + 1)

    kiosk, _ = bus.device("kiosk-02")
    by_serial = kiosk.request("progress.query", ProgressQuery(ts=_now(), request_id=Request.new_id(), serial_no=serial))
    assert by_serial.status == "ok" and by_serial.data is not None
    (case,) = by_serial.data["cases"]
    assert case["status"] == "不予批准" and [h["status"] for h in case["history"]] == ["已受理", "审查中", "不予批准"]
    assert case["reason"] is None and reason not in str(by_serial.data)
    mine = kiosk.request(
        "progress.query",
        ProgressQuery(ts=_now(), request_id=Request.new_id(), identity={"method": "id_card", "id_number": person}),  # type: ignore[arg-type]
    )
    assert mine.data is not None
    (own,) = mine.data["cases"]
    assert own["status"] == "不予批准" and own["reason"] == reason


def _row(n: int, late: int) -> WatchRow:
    return WatchRow(
        serial_no=f"S{n:05d}",
        item_name="居住证申领",
        department="市公安局人口管理支队",
        status="审查中",
        accepted_at=datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI),
        promised_date=date(2026, 12, 2),
        days_late=late,
        applicant="张*三",
        supplement_due=None,
    )


def test_floor_alerts_name_overdue_cases_and_count_the_rest() -> None:
    watch = Watchlist(date(2026, 12, 10), overdue=[_row(n, 8) for n in range(7)], due_soon=[_row(9, 0), _row(10, 0)])
    found = case_alerts(watch)
    overdue = [a for a in found if a.kind == "case_overdue"]
    assert len(overdue) == 6 and overdue[0].level == "critical" and "超期8天" in overdue[0].title
    assert overdue[-1].title == "另有2件办件超期"
    (soon,) = [a for a in found if a.kind == "case_due"]
    assert soon.level == "warning" and soon.title == "2件办件临近承诺时限"
    assert "张*三" not in str(found)  # no applicant data on the floor
    assert case_alerts(Watchlist(date(2026, 12, 10))) == []
