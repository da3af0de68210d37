"""The kiosk's 请稍候 screen of the 绿色通道 (without Kivy): the staff's outcome arrives as a notice — the ticket
(shown, with the print error if any), a decline (why, and 普通取号 with the same card) — or nobody comes before
the server's wait ends; meanwhile the idle timeout does not send the citizen home."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from broker.messages import DeviceNotice
from kiosk.terminal.flows import KioskFlows
from kiosk.terminal.green import TIMED_OUT
from tests.conftest import local
from tests.kiosk.fakes import Card, FakeBus, Ticker, make_flows

NOW = local(2026, 11, 23, 10, 0)
TICKET = {"ticket": "L004", "group": "police", "group_name": "公安服务", "waiting_ahead": 0, "print_job_id": "j"}


def _waiting(tmp_path: Path) -> tuple[KioskFlows, FakeBus, Ticker]:
    expires = (NOW + timedelta(minutes=3)).isoformat()
    answers = {"green.request": {"green_id": 7, "assist_id": 2, "expires_at": expires, "message": "已通知"}}
    flows, bus, ticker = make_flows(tmp_path, FakeBus(answers=answers), now=NOW, face_checkin=False)
    flows.start("green")
    flows.choose_green("孕妇")
    flows.card_presented(Card())
    assert flows.state.screen == "green_wait" and flows.state.person is not None
    return flows, bus, ticker


def _notice(kind: str, green_id: int, message: str, data: dict[str, object] | None = None) -> DeviceNotice:
    return DeviceNotice(ts=NOW, type=kind, message=message, green_id=green_id, data=data)


def test_confirmed_shows_the_ticket(tmp_path: Path) -> None:
    flows, _, _ = _waiting(tmp_path)
    flows.on_device_notice(_notice("green_confirmed", 6, "另一个请求", TICKET))  # not the one this kiosk waits on
    assert flows.state.screen == "green_wait"
    flows.on_device_notice(_notice("green_confirmed", 7, "工作人员已核实", {**TICKET, "print_error": "打印机缺纸"}))
    assert flows.state.screen == "ticket" and flows.state.result and flows.state.result["ticket"] == "L004"
    assert flows.state.notice == "打印机缺纸"
    flows.on_device_notice(_notice("green_declined", 7, "迟到的拒绝"))  # too late to change anything
    assert flows.state.screen == "ticket"


def test_declined_explains_and_offers_a_normal_ticket(tmp_path: Path) -> None:
    flows, _, _ = _waiting(tmp_path)
    flows.on_device_notice(_notice("green_declined", 7, "暂不符合绿色通道条件"))
    assert flows.state.screen == "green_wait" and flows.state.result
    assert flows.state.result["outcome"] == "暂不符合绿色通道条件" and flows.state.error is None
    flows.green_normal_ticket()
    assert flows.state.screen == "domains" and flows.state.purpose == "ticket" and flows.state.green is None
    assert flows.state.person is not None  # the same card, no second read


def test_waiting_holds_the_idle_timeout_until_the_server_gives_up(tmp_path: Path) -> None:
    flows, _, ticker = _waiting(tmp_path)
    for _ in range(10):  # two and a half minutes of ticks: staff may still come
        ticker.now += 15
        flows.green_tick()
        assert not flows.session.tick()
    assert flows.state.screen == "green_wait" and not (flows.state.result or {}).get("outcome")
    flows.clock = lambda: NOW + timedelta(minutes=3)
    flows.green_tick()
    assert flows.state.result and flows.state.result["outcome"] == TIMED_OUT
    ticker.now += flows.session.idle_timeout_s + 1  # now the normal idle timeout applies again
    flows.green_tick()
    assert flows.session.tick() and flows.state.screen == "home" and flows.state.person is None
