"""The kiosk's flows without Kivy: identity step, ticketing, after-hours and offline rules, face check-in
against the card, self-service, and the idle timeout that wipes personal data."""

from __future__ import annotations

from pathlib import Path

from kiosk.terminal.service import KioskError
from kiosk.terminal.session import Person
from tests.conftest import local
from tests.kiosk.fakes import PERSON_ID, PERSON_NAME, Card, FakeBus, FakeFace, make_flows

RESIDENCE = "11440300MB2D41730K000172102000000"  # 居住证申领
TICKET = {
    "ticket": "A001",
    "ticket_id": 1,
    "group_name": "公安服务",
    "waiting_ahead": 2,
    "estimated_wait_min": 16,
    "issued_at": "2026-11-23T10:00:00+08:00",
    "print_job_id": "job-1",
    "print_error": None,
}


def test_ticket_with_id_card_sends_identity_and_item(tmp_path: Path) -> None:
    flows, bus, _ = make_flows(tmp_path, FakeBus(answers={"ticket.issue": TICKET}), face_checkin=False)
    flows.start("ticket")
    assert flows.state.screen == "identity" and flows.state.purpose == "ticket"
    flows.card_presented(Card())
    assert flows.state.screen == "domains" and flows.state.person is not None
    assert flows.state.person.masked_name == "李*试"
    flows.choose_domain("residence")
    flows.choose_item(RESIDENCE)
    assert flows.state.screen == "confirm"
    flows.confirm_ticket()
    action, params = bus.sent[-1]
    assert action == "ticket.issue" and params["item_code"] == RESIDENCE
    assert params["identity"] == {"id_number": PERSON_ID, "name": PERSON_NAME, "method": "id_card"}
    assert flows.state.screen == "ticket" and flows.state.result["ticket"] == "A001"
    assert flows.state.notice is None


def test_printer_failure_in_reply_or_notice_is_shown(tmp_path: Path) -> None:
    failed = {**TICKET, "print_job_id": None, "print_error": "打印机缺纸，请凭屏幕上的号码等候叫号"}
    flows, _, _ = make_flows(tmp_path, FakeBus(answers={"ticket.issue": failed}))
    flows.start("ticket")
    flows.skip_identity()
    flows.confirm_ticket()
    assert flows.state.notice == failed["print_error"]
    # A notice about another ticket is not ours; one about this ticket is.
    flows2, _, _ = make_flows(tmp_path / "2", FakeBus(answers={"ticket.issue": TICKET}))
    flows2.start("ticket")
    flows2.skip_identity()
    flows2.confirm_ticket()
    flows2.on_print_failed("B007", "凭条未能打印")
    assert flows2.state.notice is None
    flows2.on_print_failed("A001", "凭条未能打印（缺纸）")
    assert flows2.state.notice == "凭条未能打印（缺纸）"


def test_skip_identity_only_for_consultation(tmp_path: Path) -> None:
    flows, bus, _ = make_flows(tmp_path, FakeBus(answers={"ticket.issue": TICKET}))
    flows.start("ticket")
    assert flows.skip_allowed()
    flows.skip_identity()
    assert flows.state.screen == "confirm" and flows.state.group == "consult" and flows.state.item_code is None
    flows.confirm_ticket()
    assert bus.sent[-1] == ("ticket.issue", {"group": "consult"})
    flows.home()
    flows.start("progress")
    assert not flows.skip_allowed()


def test_face_verifies_the_person_against_the_card(tmp_path: Path) -> None:
    face = FakeFace(accepted=True)
    flows, bus, _ = make_flows(tmp_path, FakeBus(answers={"ticket.issue": TICKET}), face=face)
    flows.start("ticket")
    flows.card_presented(Card())
    assert flows.state.screen == "identity" and flows.face_possible()  # offered, never required
    flows.start_face()
    assert face.photos == [Card().photo]  # compared with the photo of the card just read
    assert flows.state.person.method == "face" and flows.state.screen == "domains"
    flows.choose_item(RESIDENCE)
    flows.confirm_ticket()
    assert bus.sent[-1][1]["identity"]["method"] == "face"


def test_failed_face_falls_back_to_the_card(tmp_path: Path) -> None:
    flows, _, _ = make_flows(tmp_path, face=FakeFace(accepted=False))
    flows.start("ticket")
    flows.card_presented(Card())
    flows.start_face()
    assert flows.state.person.method == "id_card" and flows.state.screen == "domains"
    assert "未通过" in (flows.state.face or "")


def test_face_not_offered_without_photo_or_profile(tmp_path: Path) -> None:
    flows, _, _ = make_flows(tmp_path, face=FakeFace(accepted=True))
    flows.start("ticket")
    flows.card_presented(Card(photo=None))
    assert flows.state.screen == "domains"  # no photo: straight on with the card
    flows, _, _ = make_flows(tmp_path / "2", face=FakeFace(accepted=True), face_checkin=False)
    flows.start("ticket")
    flows.card_presented(Card())
    assert not flows.face_possible() and flows.state.screen == "domains"


def test_after_hours_only_self_service_remains(tmp_path: Path) -> None:
    sunday = local(2026, 11, 22, 20, 0)
    flows, _, _ = make_flows(tmp_path, now=sunday, twenty_four_hour=True)
    assert not flows.is_open()
    assert flows.available("ticket") == "现在不在办公时间，取号将于明天 09:00 恢复"
    assert flows.available("checkin") is not None
    flows.start("ticket")
    assert flows.state.screen == "home" and "09:00" in (flows.state.error or "")
    for purpose in ("guide", "progress", "evaluation"):
        assert flows.available(purpose) is None
    flows.start("guide")
    assert flows.state.screen == "domains"


def test_offline_pauses_ticketing_but_guide_lookup_works(tmp_path: Path) -> None:
    bus = FakeBus(online=False, offline_reason="无法连接大厅服务网络")
    flows, _, _ = make_flows(tmp_path, bus)
    assert flows.available("ticket") == "暂停取号：无法连接大厅服务网络"
    flows.start("ticket")
    assert flows.state.screen == "home" and bus.sent == []
    flows.start("guide")
    flows.open_search()
    for letter in "jzz":
        flows.key(letter)
    assert flows.catalog.current is not None
    found = flows.catalog.current.search(flows.state.query)
    assert found[0].name == "居住证申领"
    flows.choose_item(found[0].code)
    assert flows.state.screen == "guide"
    assert flows.guide_url(found[0].code) == f"http://hall.test:8000/m/guide/{found[0].code}"


def test_refusal_message_is_shown(tmp_path: Path) -> None:
    refusal = KioskError("already_waiting", "您已有一个正在等候的号码A003，请留意叫号")
    flows, _, _ = make_flows(tmp_path, FakeBus(answers={"ticket.issue": refusal}), face_checkin=False)
    flows.start("ticket")
    flows.card_presented(Card())
    flows.choose_item(RESIDENCE)
    flows.confirm_ticket()
    assert flows.state.screen == "confirm" and flows.state.error == refusal.message and not flows.state.busy


def test_checkin_needs_the_card_and_sends_the_code(tmp_path: Path) -> None:
    answer = {**TICKET, "ticket": "A101", "appointment_id": 9}
    flows, bus, _ = make_flows(tmp_path, FakeBus(answers={"appointment.checkin": answer}), face_checkin=False)
    flows.start("checkin")
    assert flows.state.screen == "identity" and not flows.skip_allowed()
    for ch in "K7M2Q9XA":
        flows.key(ch)
    flows.card_presented(Card())
    action, params = bus.sent[-1]
    assert action == "appointment.checkin" and params["booking_code"] == "K7M2Q9XA"
    assert params["identity"]["id_number"] == PERSON_ID
    assert flows.state.screen == "ticket" and flows.state.result["ticket"] == "A101"


def test_progress_by_serial_number_or_card(tmp_path: Path) -> None:
    cases = {
        "cases": [
            {
                "serial_no": "X" * 20,
                "item_name": "居住证申领",
                "status": "审查中",
                "promised_date": "2026-11-30",
                "delivery": "窗口领取",
            }
        ]
    }
    flows, bus, _ = make_flows(tmp_path, FakeBus(answers={"progress.query": cases}))
    flows.start("progress")
    flows.key("1")
    flows.query_progress()
    assert flows.state.error and bus.sent == []  # too short to be a serial number
    for ch in "440300000000001202611230001" + "00001":
        flows.key(ch)
    flows.query_progress()
    assert bus.sent[-1] == ("progress.query", {"serial_no": "1440300000000001202611230001" + "00001"})
    assert flows.state.screen == "progress_result"
    flows.home()
    flows.start("progress")
    flows.card_presented(Card())
    assert bus.sent[-1][1] == {"identity": {"id_number": PERSON_ID, "name": PERSON_NAME, "method": "id_card"}}


def test_evaluation_of_a_recent_visit(tmp_path: Path) -> None:
    visits = {
        "visits": [
            {
                "visit_id": 7,
                "ticket": "A001",
                "item_name": "居住证申领",
                "window_name": "3号窗口",
                "ended_at": "2026-11-23T09:30:00+08:00",
                "rated": False,
            }
        ]
    }
    target = {
        "visit_id": 7,
        "ticket": "A001",
        "item_name": "居住证申领",
        "window_name": "3号窗口",
        "window_number": 3,
        "staff": "张*三",
        "ended_at": "2026-11-23T09:30:00+08:00",
        "rated": False,
    }
    answers = {
        "visit.recent": visits,
        "visit.check": target,
        "evaluation.submit": {"evaluation_id": 1, "is_bad": False},
    }
    flows, bus, _ = make_flows(tmp_path, FakeBus(answers=answers))
    flows.start("evaluation")
    flows.card_presented(Card())
    assert bus.sent[-1][0] == "visit.recent" and flows.state.screen == "visits"
    flows.choose_visit(7)
    # The server checks the card against the visit before the five levels appear.
    action, params = bus.sent[-1]
    assert action == "visit.check" and params["visit_id"] == 7 and params["identity"]["id_number"]
    assert flows.state.screen == "rate" and flows.state.result["staff"] == "张*三"
    flows.rate(5)
    action, params = bus.sent[-1]
    assert action == "evaluation.submit" and params["visit_id"] == 7 and params["level"] == 5
    assert params["channel"] == "kiosk" and params["identity"]["id_number"]
    assert flows.state.screen == "thanks"
    flows.home()
    flows.start("evaluation")
    for ch in "a012":
        flows.key(ch)
    flows.rate_ticket()  # a ticket number alone proves nothing
    assert flows.state.screen == "evaluation" and "评价码" in (flows.state.error or "")
    assert bus.sent[-1][0] == "evaluation.submit"  # nothing was sent
    for ch in "483920":
        flows.key(ch)
    flows.rate_ticket()
    assert bus.sent[-1] == ("visit.check", {"ticket": "A012", "code": "483920"})
    flows.rate(1)
    assert bus.sent[-1] == ("evaluation.submit", {"level": 1, "channel": "kiosk", "visit_id": 7, "code": "483920"})


def test_a_refused_visit_check_shows_no_levels(tmp_path: Path) -> None:
    refusal = KioskError("forbidden", "无法核实您办理过这次业务，不能评价")
    flows, bus, _ = make_flows(tmp_path, FakeBus(answers={"visit.check": refusal}))
    flows.start("evaluation")
    for ch in "a012123456":
        flows.key(ch)
    flows.rate_ticket()
    assert bus.sent[-1][0] == "visit.check"
    assert flows.state.screen == "evaluation" and "无法核实" in (flows.state.error or "")


def test_call_staff_from_any_screen(tmp_path: Path) -> None:
    flows, bus, _ = make_flows(tmp_path, FakeBus(answers={"assist.request": {"assist_id": 1, "message": "已通知"}}))
    flows.start("guide")
    flows.toggle_elderly()
    flows.call_staff()
    assert bus.sent[-1] == ("assist.request", {"reason": "老年人需要帮助", "screen": "domains", "elderly": True})
    assert flows.state.screen == "assist"
    bus.online = False
    flows.call_staff()
    assert flows.state.result == {"offline": True}


def test_idle_timeout_wipes_personal_data(tmp_path: Path) -> None:
    flows, _, ticker = make_flows(tmp_path, FakeBus(answers={"ticket.issue": TICKET}), face_checkin=False)
    flows.start("ticket")
    flows.card_presented(Card())
    flows.choose_item(RESIDENCE)
    flows.confirm_ticket()
    session = flows.session
    ticker.now += session.idle_timeout_s - 1
    assert not session.tick() and flows.state.person is not None
    ticker.now += 2
    assert session.tick()
    state = flows.state
    assert state.screen == "home" and state.person is None and state.result is None and not state.personal
    assert PERSON_ID not in repr(state) and PERSON_NAME not in repr(state)


def test_elderly_mode_survives_the_wipe_and_never_leaks_identity(tmp_path: Path) -> None:
    flows, _, _ = make_flows(tmp_path, elderly_mode=True)
    assert flows.session.elderly
    flows.home()
    assert flows.session.elderly
    person = Person.from_card(Card())
    assert PERSON_ID not in repr(person) and PERSON_NAME not in repr(person)


def test_expired_card_is_refused_kindly(tmp_path: Path) -> None:
    flows, _, _ = make_flows(tmp_path)
    flows.start("ticket")
    flows.card_presented(type("Expired", (Card,), {"expired": True})())
    assert flows.state.person is None and "过有效期" in (flows.state.error or "")
    flows.card_fault("校验和错误")
    assert flows.state.error == "读卡失败：校验和错误，请重新放置身份证"


def test_an_answer_arriving_after_the_wipe_is_dropped(tmp_path: Path) -> None:
    flows, _, _ = make_flows(tmp_path, FakeBus(answers={"ticket.issue": TICKET}), face_checkin=False)
    pending: list[tuple[object, object]] = []
    flows.runner = lambda job, done: pending.append((job, done))
    flows.start("ticket")
    flows.card_presented(Card())
    flows.choose_item(RESIDENCE)
    flows.confirm_ticket()
    assert flows.state.busy
    flows.home()  # the citizen walks away (or the idle timeout)
    job, done = pending.pop()
    done(job())  # type: ignore[operator]
    assert flows.state.screen == "home" and flows.state.result is None and not flows.state.personal
