"""Issue 16, "what done looks like": a case's life after the window, over HTTP and the real bus, on the hall's
injected clock. (1) A ticket taken at the kiosk over the bus, a number left there with consent, 补正 at the
window: the reminder SMS is captured by the SMSC simulator (real SMPP), the deadline passes on the working-day
calendar and the catalog's outcome is applied. (2) A case accepted at the window, moved by 市公安局's signed
webhook through review to 不予批准: the printed decision carries the reason, the citizen's phone page (serial
+ 查询码) and the kiosk's progress query over the bus show it. (3) A complaint recorded at the window, passed
on within 2 working days, answered, closed with the citizen's feedback and counted in the month's sheet."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from broker.messages import ContactConsentRequest, ProgressQuery, Request, TicketIssue
from hallcore.commands import Identity
from hallserver.db import session_scope
from hallserver.housekeeping import Housekeeper
from hallserver.models import SupplementWatch, Visit
from hallserver.notify.smpp import SmppAccount, SmppChannel
from hallserver.notify.smsc_sim import SmscSimulator
from hallserver.notify.worker import Notifier
from hallserver.services import departments, rating_proof
from tests.conftest import local, login
from tests.gateway.fixtures import Bus
from tests.integration.helpers import id_number

API = "/api/v1"
ITEM = "11440300MB2D41730K000172102000000"  # 居住证申领 (市公安局): 补正 lapses into 中止办理
PHONE = "13800138016"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _ts() -> datetime:
    return datetime.now(SHANGHAI)


@pytest.fixture
def smsc(bus: Bus) -> Iterator[tuple[SmscSimulator, Notifier]]:
    """The SMSC simulator, and the hall's sender loop on it (its rounds run by the test)."""
    sim = SmscSimulator(system_id="hallq", password="secret").start()
    hall = bus.http.app.state.hall  # type: ignore[attr-defined]
    channel = SmppChannel(SmppAccount("127.0.0.1", sim.port, "hallq", "secret", timeout_s=5))
    notifier = Notifier(hall.ctx, hall.engine, {"sms": channel}, base_url="http://hall.test:8000")
    yield sim, notifier
    notifier.stop()
    sim.stop()


def _at(bus: Bus, day: date, hour: int = 9) -> None:
    """Move the hall clock to a day (never back) and log the manager in again (tokens last a day)."""
    bus.clock.set(local(day.year, day.month, day.day, hour, 30))
    bus.http.headers.update(login(bus.http, "m01"))


def _serve(bus: Bus, window: str, finish: dict[str, Any]) -> dict[str, Any]:
    for step in ("call-next", "start"):
        ok(bus.http.post(f"{API}/windows/{window}/{step}"))
    ok(bus.http.post(f"{API}/windows/{window}/finish", json=finish))
    return dict(ok(bus.http.get(f"{API}/visits", params={"window_id": window}))[-1])


def test_supplement_reminder_lapse_denial_and_complaint(bus: Bus, smsc: tuple[SmscSimulator, Notifier]) -> None:
    sim, notifier = smsc
    hall = bus.http.app.state.hall  # type: ignore[attr-defined]
    ctx = hall.ctx
    housekeeper = Housekeeper(ctx, hall.engine, 60)
    start = bus.clock.now().date()

    # (1) Kiosk over the bus: a real-name ticket, then the number with the consent line.
    kiosk, _ = bus.device("kiosk-02")
    person = {"method": "id_card", "id_number": id_number(161), "name": "孙小美"}
    issued = kiosk.request(
        "ticket.issue", TicketIssue(ts=_ts(), request_id=Request.new_id(), item_code=ITEM, identity=person)
    )
    assert issued.status == "ok" and issued.data is not None, issued.error
    consent = ContactConsentRequest(
        ts=_ts(), request_id=Request.new_id(), phone=PHONE, consent=True, ticket=issued.data["ticket"],
        identity=person,
    )  # fmt: skip
    assert kiosk.request("contact.consent", consent).status == "ok"
    missing = ctx.catalog.items[ITEM].materials[0].name
    visit = _serve(bus, "w05", {"outcome": "补正", "materials": [missing]})
    due = ctx.calendar.add_working_days(start, ctx.profile.cases.supplement_days)
    with session_scope(hall.engine) as s:
        assert s.get(Visit, visit["id"]).deadline == due  # type: ignore[union-attr]
    notifier.run_once(slow=False)
    sim.submitted.clear()  # the near-turn and other messages of the morning

    working = ctx.calendar.holidays.is_working_day
    day_before = next(d for d in (due - timedelta(days=k) for k in range(1, 8)) if working(d))
    _at(bus, day_before)
    assert housekeeper.sweep_cases().reminded >= 1
    notifier.run_once(slow=False)
    (reminder,) = [m for m in sim.submitted if "补正" in m.text]
    assert reminder.destination.endswith(PHONE) and f"{due:%Y年%m月%d日}" in reminder.text
    assert person["id_number"] not in reminder.text and person["name"] not in reminder.text

    after = next(d for d in (due + timedelta(days=k) for k in range(1, 8)) if working(d))
    _at(bus, after)
    assert housekeeper.sweep_cases().lapsed >= 1
    with session_scope(hall.engine) as s:
        watch = s.exec(select(SupplementWatch).where(SupplementWatch.visit_id == visit["id"])).one()
        assert (watch.state, watch.lapse_outcome) == ("lapsed", ctx.catalog.items[ITEM].on_deadline_lapse or "中止办理")

    # (2) Accepted at the window; the department's signed pushes move it through review to 不予批准.
    applicant = {"method": "id_card", "id_number": id_number(162), "name": "钱小军"}
    ok(bus.http.post(f"{API}/tickets", json={"item_code": ITEM, "identity": applicant}), 201)
    serial = _serve(bus, "w05", {"outcome": "受理"})["serial_no"]
    secret = departments.register(bus.http.app.state.department_secrets, "gongan", "市公安局")  # type: ignore[attr-defined]
    reason = "申请人未满足连续居住半年以上的申领条件"
    for n, (status, extra) in enumerate((("reviewing", {}), ("denied", {"reason": reason}))):
        bus.clock.advance(minutes=5)
        body = {"event_id": f"e2e-{n}", "serial_no": serial, "status": status,
                "at": bus.clock.now().isoformat(), **extra}  # fmt: skip
        raw = json.dumps(body, ensure_ascii=False).encode()
        ts = str(int(bus.clock.now().timestamp()))
        signed = {"X-Hallq-Department": "gongan", "X-Hallq-Timestamp": ts, "Content-Type": "application/json",
                  "X-Hallq-Signature": departments.sign(secret, ts, raw)}  # fmt: skip
        ok(bus.http.post(f"{API}/departments/webhook", content=raw, headers=signed))
    decision = ok(bus.http.get(f"{API}/cases/{serial}/decision"))
    printed = json.dumps(decision, ensure_ascii=False)
    assert "不予批准决定书" in printed and reason in printed and serial in printed
    assert applicant["name"] not in printed and applicant["id_number"] not in printed
    page = bus.http.get(f"/m/case?serial={serial}&code={rating_proof.case_query_code(ctx, serial)}")
    assert page.status_code == 200 and "不予批准" in page.text and applicant["name"] not in page.text
    own = kiosk.request(
        "progress.query",
        ProgressQuery(
            ts=_ts(), request_id=Request.new_id(), identity=Identity(method="id_card", id_number=applicant["id_number"])
        ),
    )
    assert own.data is not None and own.data["cases"][0]["status"] == "不予批准"
    assert own.data["cases"][0]["reason"] == reason
    notifier.run_once(slow=False)  # the denial goes to nobody: this applicant left no number

    # (3) A complaint at the 办不成事 window: passed on within 2 working days, answered, closed, counted.
    complaint_day = bus.clock.now().date()
    staff = login(bus.http, "s18")
    complaint = {"kind": "cannot_do", "content": "居住证申领被退回三次，每次要求的材料都不一样",
                 "name": "钱小军", "phone": "13900139016", "written_reply": True}  # fmt: skip
    ref = ok(bus.http.post(f"{API}/complaints", json=complaint, headers=staff), 201)["reference"]
    classified = ok(bus.http.post(f"{API}/complaints/{ref}/classify",
                                  json={"in_remit": False, "department": "市公安局"}))  # fmt: skip
    assert classified["due"] == ctx.calendar.add_working_days(complaint_day, 2).isoformat()
    ok(bus.http.post(f"{API}/complaints/{ref}/assign", json={"assignee": "市公安局"}))
    ok(
        bus.http.post(
            f"{API}/complaints/{ref}/answer", json={"reply": "已由市公安局复核，材料清单已统一，请按告知书补齐。"}
        )
    )
    written = ok(bus.http.get(f"{API}/complaints/{ref}/written-reply", headers=staff))
    assert written["title"] == "投诉（办不成事）书面答复" and "钱小军" not in json.dumps(written, ensure_ascii=False)
    closed = ok(bus.http.post(f"{API}/complaints/{ref}/close", json={"feedback": "satisfied"}))
    assert closed["feedback_label"] == "满意"
    sheet = ok(bus.http.get(f"{API}/reports/assessment", params={"month": f"{complaint_day:%Y-%m}"}))
    figures = {line["item"]: line["count"] for line in sheet["complaints"]}  # the month sheet's ledger lines
    assert figures["收到投诉及办不成事反映（件）"] == 1 and figures["其中：办不成事反映"] == 1
    assert figures["转有关部门办理"] == 1 and figures["按时答复"] == 1 and figures["已办结"] == 1
    assert figures["群众反馈：满意"] == 1 and figures["超期（未按时答复）"] == 0
