"""Issue 18, the kiosk as citizens meet it, without Kivy: 预约签到 in 早晚弹性办, 呼叫工作人员 after hours, the
progress query's feedback, the face prompt, 取号办理 from a guide, the green channel, booking, the time-out
warning, the card leaving the reader, and pinyin search that means what the citizen typed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from kiosk.face import prompts
from kiosk.terminal.flows import FACE_START
from kiosk.terminal.session import WARN_S
from tests.conftest import local
from tests.kiosk.fakes import Card, FakeBus, make_flows

RESIDENCE = "11440300MB2D41730K000172102000000"  # 居住证申领
SERIAL = RESIDENCE + "20261120" + "0001" + "00003"  # code + date + hall code + sequence
ELDER = Card(name="王长者", id_number="110105195003071236", masked_name="王*者", birth=date(1950, 3, 7))
TICKET = {"ticket": "L001", "group": "police", "group_name": "公安服务", "waiting_ahead": 0, "print_job_id": "j"}


def test_checkin_follows_the_flexible_hours_while_walk_in_tickets_wait(tmp_path: Path) -> None:
    # Monday 08:15: walk-in tickets open at 09:00, booked citizens may check in from 08:00 (早晚弹性办).
    flows, _, _ = make_flows(tmp_path, now=local(2026, 11, 23, 8, 15))
    assert flows.available("ticket") is not None and flows.available("green") is not None
    assert flows.available("checkin") is None and flows.available("booking") is None
    flows.start("checkin")
    assert flows.state.screen == "identity" and flows.state.purpose == "checkin"
    early, _, _ = make_flows(tmp_path / "early", now=local(2026, 11, 23, 7, 30))
    assert "现在不在预约签到时间" in (early.available("checkin") or "")
    sunday, _, _ = make_flows(tmp_path / "sunday", now=local(2026, 11, 22, 20, 30), twenty_four_hour=True)
    for purpose in ("booking", "guide", "progress"):  # what a 24-hour point promises
        assert sunday.available(purpose) is None, purpose


def test_call_staff_after_hours_gives_phones_and_says_whether_anyone_was_told(tmp_path: Path) -> None:
    nobody = FakeBus(answers={"assist.request": {"assist_id": None, "staffed": False, "message": "非工作时间"}})
    flows, bus, _ = make_flows(tmp_path, nobody, now=local(2026, 11, 23, 22, 0), twenty_four_hour=True)
    flows.call_staff()
    assert flows.state.screen == "assist" and flows.state.result == {"after_hours": True, "staffed": False}
    assert bus.sent[-1][0] == "assist.request"  # the server alerts a console only if someone has one open
    duty = FakeBus(answers={"assist.request": {"assist_id": 3, "staffed": True, "message": "已通知"}})
    guarded, _, _ = make_flows(tmp_path / "duty", duty, now=local(2026, 11, 23, 22, 0), twenty_four_hour=True)
    guarded.call_staff()
    assert guarded.state.result == {"after_hours": True, "staffed": True}
    cut_off = FakeBus(online=False, offline_reason="网络中断")
    offline, _, _ = make_flows(tmp_path / "off", cut_off, now=local(2026, 11, 23, 22, 0), twenty_four_hour=True)
    offline.call_staff()
    assert offline.state.result == {"after_hours": True} and cut_off.sent == []  # the phones, still
    assert flows.assist_phone() == "0755-26600000"  # the hall's, unless the kiosk has its own
    own, _, _ = make_flows(tmp_path / "own", now=local(2026, 11, 23, 22, 0), assist_phone="0755-12345678")
    assert own.assist_phone() == "0755-12345678"
    staffed, bus2, _ = make_flows(tmp_path / "day", now=local(2026, 11, 23, 10, 0))
    staffed.call_staff()
    assert bus2.sent[-1][0] == "assist.request" and staffed.state.screen == "assist"


def test_progress_query_says_what_is_wrong_with_a_serial(tmp_path: Path) -> None:
    flows, bus, _ = make_flows(tmp_path, FakeBus(answers={"progress.query": {"cases": []}}))
    flows.start("progress")
    flows.query_progress()
    assert "请输入受理凭证上的办件流水号" in (flows.state.error or "")
    for ch in "44030":
        flows.key(ch)
    flows.query_progress()
    assert "格式不对" in (flows.state.error or "") and "44030" in (flows.state.error or "")
    assert bus.sent == []  # nothing was asked that cannot be a serial number
    flows.clear()
    for ch in SERIAL:
        flows.key(ch)
    flows.query_progress()
    assert bus.sent[-1] == ("progress.query", {"serial_no": SERIAL})
    assert flows.state.screen == "progress_result" and flows.state.result == {"cases": [], "serial": SERIAL}


def test_face_prompt_names_no_gesture_the_liveness_check_does_not_ask(tmp_path: Path) -> None:
    from tests.kiosk.fakes import FakeFace

    flows, _, _ = make_flows(tmp_path, face=FakeFace(accepted=True))
    flows.start("ticket")
    flows.card_presented(Card())
    seen: list[str | None] = []
    flows.session.listeners.append(lambda s: seen.append(s.face))
    flows.start_face()
    assert seen[0] == FACE_START and "眨" not in FACE_START and "转头" not in FACE_START
    assert all("眨" not in v for v in prompts.TURN.values())  # the head-turn challenge asks to turn


def test_ticket_from_a_guide_page_goes_straight_to_confirm(tmp_path: Path) -> None:
    flows, bus, _ = make_flows(tmp_path, FakeBus(answers={"ticket.issue": TICKET}), face_checkin=False)
    flows.start("guide")
    flows.choose_domain("residence")
    flows.choose_item(RESIDENCE)
    assert flows.state.screen == "guide"
    flows.ticket_for_item()
    assert flows.state.screen == "identity" and flows.state.purpose == "ticket"
    flows.card_presented(Card())
    assert flows.state.screen == "confirm" and flows.state.item_code == RESIDENCE
    flows.confirm_ticket()
    assert bus.sent[-1][1]["item_code"] == RESIDENCE
    closed, _, _ = make_flows(tmp_path / "night", now=local(2026, 11, 23, 21, 0))
    closed.start("guide")
    closed.choose_domain("residence")
    closed.choose_item(RESIDENCE)
    closed.ticket_for_item()
    assert closed.state.screen == "guide" and "取号将于明天 09:00 恢复" in (closed.state.error or "")


def test_green_channel_elderly_proven_by_the_card(tmp_path: Path) -> None:
    flows, bus, _ = make_flows(tmp_path, FakeBus(answers={"ticket.issue": TICKET}), face_checkin=False)
    flows.start("green")
    assert flows.state.screen == "green"
    flows.choose_green("老年人")
    assert flows.state.screen == "identity" and flows.state.green == "老年人"
    flows.card_presented(ELDER)
    assert flows.state.screen == "domains" and flows.green_proven()
    flows.choose_item(RESIDENCE)
    assert flows.state.screen == "confirm"
    flows.confirm_ticket()
    action, params = bus.sent[-1]
    assert action == "ticket.issue" and params["priority"] == "green" and params["priority_reason"] == "老年人"
    assert not any(a == "assist.request" for a, _ in bus.sent)


def test_green_channel_other_reasons_are_confirmed_by_staff(tmp_path: Path) -> None:
    answers = {"green.request": {"green_id": 3, "assist_id": 3, "message": "已通知"}}
    flows, bus, _ = make_flows(tmp_path, FakeBus(answers=answers), face_checkin=False)
    flows.start("green")
    flows.choose_green("老年人")
    flows.card_presented(Card())  # born 1985: the card does not prove the reason
    assert flows.state.screen == "green" and "未满60周岁" in (flows.state.error or "")
    assert flows.state.person is None  # the card's data left with the refusal
    flows.choose_green("残疾人")
    flows.card_presented(Card())
    assert flows.state.screen == "green_wait"
    action, params = bus.sent[-1]  # the card's identity stays with the server until staff confirm
    assert action == "green.request" and params["reason"] == "残疾人" and params["identity"]["method"] == "id_card"
    assert not any(a == "ticket.issue" for a, _ in bus.sent)
    # A hall that does not ask staff to confirm: straight on to the item.
    trusting, _, _ = make_flows(tmp_path / "t", FakeBus(answers=answers), face_checkin=False)
    trusting.facts = replace(trusting.facts, green_staff_check=False)
    trusting.start("green")
    trusting.choose_green("孕妇")
    trusting.card_presented(Card())
    assert trusting.state.screen == "domains"


def test_booking_lists_slots_then_books_with_the_card(tmp_path: Path) -> None:
    slots = {
        "item_code": RESIDENCE,
        "item_name": "居住证申领",
        "date": "2026-11-24",
        "days": [{"date": "2026-11-24", "free": 3}],
        "slots": [{"start": "2026-11-24T10:00:00+08:00", "end": "2026-11-24T10:30:00+08:00", "free": 3}],
    }
    booked = {"code": "K7M2Q9XA", "item_name": "居住证申领", "print_job_id": "j", "print_error": None}
    bus = FakeBus(answers={"appointment.slots": slots, "appointment.book": booked})
    flows, _, _ = make_flows(tmp_path, bus, now=local(2026, 11, 22, 20, 30), face_checkin=False, twenty_four_hour=True)
    flows.start("booking")  # Sunday evening: booking for later days stays open
    assert flows.state.screen == "identity"
    flows.card_presented(Card())
    assert flows.state.screen == "domains"
    flows.choose_item(RESIDENCE)
    assert bus.sent[-1] == ("appointment.slots", {"item_code": RESIDENCE})
    assert flows.state.screen == "slots" and flows.state.day == "2026-11-24"
    flows.booking_slots("2026-11-25")
    assert bus.sent[-1] == ("appointment.slots", {"item_code": RESIDENCE, "day": "2026-11-25"})
    flows.book("2026-11-24T10:00:00+08:00")
    action, params = bus.sent[-1]
    assert action == "appointment.book" and params["slot_start"] == "2026-11-24T10:00:00+08:00"
    assert params["identity"]["id_number"] == Card().id_number
    assert flows.state.screen == "booked" and flows.state.result["code"] == "K7M2Q9XA"


def test_time_out_warns_first_and_continue_gives_time(tmp_path: Path) -> None:
    flows, _, ticker = make_flows(tmp_path)
    flows.start("ticket")
    flows.card_presented(Card())
    session = flows.session
    assert not session.warning()
    ticker.now += session.idle_timeout_s - WARN_S + 1
    assert session.warning() and flows.state.person is not None  # warned, nothing wiped yet
    flows.keep_going()
    assert not session.warning() and session.idle_left() == session.idle_timeout_s
    ticker.now += session.idle_timeout_s + 1
    assert session.tick() and flows.state.person is None and flows.state.screen == "home"


def test_removing_the_card_takes_its_data_off_the_screen(tmp_path: Path) -> None:
    cases = {"cases": [{"serial_no": SERIAL, "item_name": "居住证申领", "status": "审查中"}]}
    flows, _, _ = make_flows(tmp_path, FakeBus(answers={"progress.query": cases}))
    flows.start("progress")
    flows.card_presented(Card())
    assert flows.state.screen == "progress_result" and flows.state.card_present
    flows.card_removed()
    assert flows.state.screen == "progress" and flows.state.result is None and flows.state.person is None
    assert flows.state.notice == "证件已取走，查询结果已清除"
    ticket, _, _ = make_flows(tmp_path / "t", face_checkin=False)
    ticket.start("ticket")
    ticket.card_presented(Card())
    ticket.card_removed()  # taken back after the beep: the step goes on, the screen shows no name
    assert ticket.state.screen == "domains" and ticket.state.person is not None and not ticket.state.card_present


def test_jzz_means_residence_permits_only(tmp_path: Path) -> None:
    flows, _, _ = make_flows(tmp_path)
    catalog = flows.catalog.current
    assert catalog is not None
    names = [e.name for e in catalog.search("jzz")]
    assert names and all(n.startswith("居住证") for n in names) and "残疾人证迁移" not in names
    assert "残疾人证迁移" in [e.name for e in catalog.search("cjr")]  # its own initials still find it
