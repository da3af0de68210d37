"""Department systems push case updates: a signed webhook moves a real case through review to 不予批准,
with a written decision, and the progress query shows it. Forged signatures, tampered bodies, replays, stale
timestamps and events, unknown or foreign serials are refused with a clear code, recorded, never applied."""

from __future__ import annotations

from sqlmodel import select

from hallserver.db import session_scope
from hallserver.models import DepartmentEvent
from hallserver.services import departments
from tests.cases.conftest import API, CaseHall, error, event, ok


def _records(hall: CaseHall, serial_no: str | None = None) -> list[DepartmentEvent]:
    with session_scope(hall.http.app.state.hall.engine) as s:  # type: ignore[attr-defined]
        query = select(DepartmentEvent).order_by(DepartmentEvent.id)  # type: ignore[arg-type]
        rows = list(s.exec(query).all())
        s.expunge_all()
    return [r for r in rows if serial_no is None or r.serial_no == serial_no]


def _status(hall: CaseHall, serial_no: str) -> str:
    (case,) = ok(hall.http.get(f"{API}/progress", params={"serial_no": serial_no}))
    return str(case["status"])


def test_webhook_moves_a_case_to_a_written_denial_the_progress_query_shows(case_hall: CaseHall) -> None:
    visit = case_hall.accept()
    serial = visit["serial_no"]
    assert _status(case_hall, serial) == "已受理"

    review = ok(case_hall.push(event(serial, "reviewing", 1, at=case_hall.clock.now().isoformat())))
    assert review == {"serial_no": serial, "status": "审查中", "applied": True, "event_id": review["event_id"]}
    case_hall.clock.advance(hours=2)
    reason = "经核查，申请人提交的居住登记信息与实际居住情况不符，不符合《居住证暂行条例》第九条规定的申领条件"
    denied = ok(case_hall.push(event(serial, "denied", 2, reason=reason, at=case_hall.clock.now().isoformat())))
    assert denied["status"] == "不予批准"

    # The applicant (by ID card) sees the status, every step and the reason; a serial number alone no reason.
    (mine,) = ok(
        case_hall.http.post(
            f"{API}/progress", json={"identity": {"method": "id_card", "id_number": visit["id_number"]}}
        )
    )
    assert mine["status"] == "不予批准" and mine["reason"] == reason and mine["decision"] is True
    assert [h["status"] for h in mine["history"]] == ["已受理", "审查中", "不予批准"]
    assert reason in str(mine["history"][-1]["note"])
    (public,) = ok(case_hall.http.get(f"{API}/progress", params={"serial_no": serial}))
    assert public["status"] == "不予批准" and public["reason"] is None
    assert [h["status"] for h in public["history"]] == ["已受理", "审查中", "不予批准"]
    assert reason not in str(public)

    # The written decision: reason, legal basis, remedies, the department's seal line, masked applicant.
    doc = ok(case_hall.http.get(f"{API}/cases/{serial}/decision", headers=case_hall.staff))
    assert doc["title"] == "不予批准决定书" and doc["reason"] == reason and doc["serial_no"] == serial
    assert doc["department"] == "市公安局人口管理支队" and doc["masked_name"] == "张*三"
    assert "行政复议" in doc["remedy"] and "行政诉讼" in doc["remedy"] and doc["legal_basis"]
    assert [r.outcome for r in _records(case_hall, serial)] == ["applied", "applied"]

    # A denial is final: a later 办结 is refused (and recorded), the case stays denied.
    body = error(case_hall.push(event(serial, "completed", 3, result="居住证")), 409, "invalid_transition")
    assert "不予批准" in body["message"]
    assert _status(case_hall, serial) == "不予批准"
    assert _records(case_hall, serial)[-1].code == "invalid_transition"


def test_a_denial_needs_a_written_reason(case_hall: CaseHall) -> None:
    serial = case_hall.accept()["serial_no"]
    body = error(case_hall.push(event(serial, "denied", 1)), 422, "invalid")
    assert "理由" in body["message"]
    assert _status(case_hall, serial) == "已受理"


def test_forged_and_tampered_signatures_are_refused_and_recorded(case_hall: CaseHall) -> None:
    serial = case_hall.accept()["serial_no"]
    before = len(_records(case_hall))
    forged = error(case_hall.push(event(serial, "reviewing", 1), secret="whsec_guessed"), 401, "bad_signature")
    assert "签名" in forged["message"]
    # A body changed after signing: the signature covers the raw bytes.
    raw = event(serial, "reviewing", 2)
    ts = str(int(case_hall.clock.now().timestamp()))
    signature = departments.sign(case_hall.secret, ts, str(raw).encode())
    tampered = case_hall.http.post(
        f"{API}/departments/webhook",
        json=raw,
        headers={"X-Hallq-Department": "gongan", "X-Hallq-Timestamp": ts, "X-Hallq-Signature": signature},
    )
    error(tampered, 401, "bad_signature")
    # An unknown department, a missing or malformed signature: the same answer, nothing more told.
    error(case_hall.push(event(serial, "reviewing", 3), department="nobody"), 401, "bad_signature")
    no_sig = case_hall.http.post(f"{API}/departments/webhook", json=event(serial, "reviewing", 4))
    error(no_sig, 401, "bad_signature")
    records = _records(case_hall)[before:]
    assert [r.code for r in records] == ["bad_signature"] * 4 and {r.outcome for r in records} == {"refused"}
    assert records[2].department == "nobody" and records[0].serial_no == serial
    assert _status(case_hall, serial) == "已受理"


def test_replays_and_stale_timestamps_are_refused(case_hall: CaseHall) -> None:
    serial = case_hall.accept()["serial_no"]
    body = event(serial, "reviewing", 1)
    ok(case_hall.push(body))
    # The same signed request again (a retry or a replay): not applied twice, and said so.
    again = error(case_hall.push(body), 409, "duplicate_event")
    assert "未重复执行" in again["message"] and again["data"]["status"] == "reviewing"
    # Another update under an event id already used: refused.
    error(case_hall.push({**body, "status": "completed", "result": "居住证"}), 409, "event_conflict")
    # Signed more than five minutes ago (or ahead): refused even with the right secret.
    now = int(case_hall.clock.now().timestamp())
    stale = error(
        case_hall.push(event(serial, "completed", 2, result="居住证"), timestamp=now - 301), 401, "stale_timestamp"
    )
    assert "5分钟" in stale["message"]
    error(case_hall.push(event(serial, "completed", 3, result="居住证"), timestamp=now + 301), 401, "stale_timestamp")
    ok(case_hall.push(event(serial, "completed", 4, result="居住证"), timestamp=now - 290))  # inside the window
    codes = [r.code for r in _records(case_hall, serial)]
    assert codes == [None, "duplicate_event", "event_conflict", "stale_timestamp", "stale_timestamp", None]
    assert _status(case_hall, serial) == "已办结"


def test_an_event_older_than_the_cases_last_change_is_not_applied(case_hall: CaseHall) -> None:
    serial = case_hall.accept()["serial_no"]
    earlier = case_hall.clock.now()
    case_hall.clock.advance(minutes=1)
    ok(case_hall.push(event(serial, "reviewing", 1, at=case_hall.clock.now().isoformat())))
    late = case_hall.push(event(serial, "denied", 2, reason="材料不符合法定形式", at=earlier.isoformat()))
    error(late, 409, "stale_event")
    assert _status(case_hall, serial) == "审查中"


def test_unknown_and_foreign_serials_get_the_same_not_found(case_hall: CaseHall) -> None:
    serial = case_hall.accept()["serial_no"]
    unknown = error(
        case_hall.push(event("11440300MB2D41730K00017210200000020261123000199999", "reviewing", 1)), 404, "not_found"
    )
    assert "流水号" in unknown["message"]
    # 市社会保险基金管理局 (its own valid secret) may not move a 公安 case, and learns nothing about it.
    shebao = departments.rotate(case_hall.secret_dir, "shebao")
    foreign = case_hall.push(event(serial, "reviewing", 2), secret=shebao, department="shebao")
    assert error(foreign, 404, "not_found")["message"] == unknown["message"].replace(
        "11440300MB2D41730K00017210200000020261123000199999", serial
    )
    assert [r.code for r in _records(case_hall, serial)] == ["not_found"]
    assert _status(case_hall, serial) == "已受理"


def test_bad_json_and_unknown_status_are_invalid(case_hall: CaseHall) -> None:
    serial = case_hall.accept()["serial_no"]
    error(case_hall.push(b"{not json"), 422, "invalid")
    body = error(case_hall.push(event(serial, "approved-ish", 1)), 422, "invalid")
    assert "status" in body["message"]
    error(case_hall.push({**event(serial, "reviewing", 2), "extra": 1}), 422, "invalid")
    assert _status(case_hall, serial) == "已受理"


def test_secret_rotation_keeps_two_secrets_valid_until_retired(case_hall: CaseHall) -> None:
    serial = case_hall.accept()["serial_no"]
    old = case_hall.secret
    new = departments.rotate(case_hall.secret_dir, "gongan")
    try:
        ok(case_hall.push(event(serial, "reviewing", 1), secret=old))  # during the rotation: both
        ok(case_hall.push(event(serial, "committed", 2, result="居住证", delivery="post"), secret=new))
        departments.retire(case_hall.secret_dir, "gongan")
        error(case_hall.push(event(serial, "posted", 3, tracking_no="SF1234567890"), secret=old), 401, "bad_signature")
        posted = ok(case_hall.push(event(serial, "posted", 4, tracking_no="SF1234567890"), secret=new))
        assert posted["status"] == "已邮寄"
    finally:
        case_hall.secret = new


def test_token_calls_for_systems_that_cannot_sign(case_hall: CaseHall) -> None:
    serial = case_hall.accept()["serial_no"]
    url = f"{API}/departments/updates"
    auth = {"Authorization": f"Bearer {case_hall.token}"}
    done = ok(
        case_hall.http.post(
            url, json=event(serial, "completed", 1, result="居住证", delivery="electronic"), headers=auth
        )
    )
    assert done["status"] == "已办结"
    (case,) = ok(case_hall.http.get(f"{API}/progress", params={"serial_no": serial}))
    assert case["delivery"] == "电子送达"
    ok(case_hall.http.post(url, json=event(serial, "delivered", 2), headers=auth))
    error(
        case_hall.http.post(url, json=event(serial, "revoked", 3, reason="未履行承诺"), headers=auth),
        409,
        "invalid_transition",
    )
    error(case_hall.http.post(url, json=event(serial, "reviewing", 4)), 401, "unauthorized")
    bad = {"Authorization": "Bearer dept_forged"}
    error(case_hall.http.post(url, json=event(serial, "reviewing", 5), headers=bad), 401, "unauthorized")
    assert [r.channel for r in _records(case_hall, serial)] == ["token"] * 5
