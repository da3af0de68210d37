"""The kiosk on screen, offscreen: the whole 取号 flow by touches with the ID reader simulator on a pty, a
real broker, hall server and printer; the other screens; elderly, 24-hour, printer failure and offline.
Every screen is saved to /tmp/hallq-screens (kiosk-<case>-<step>.png)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.printer.agent import PrinterAgent
from kiosk.printer.decoder import decode
from kiosk.printer.simulator import PrinterSimulator
from tests.conftest import local
from tests.gateway.fixtures import Bus
from tests.kiosk.driver import LANDSCAPE, PORTRAIT, KioskDriver
from tests.ui.stage import Stage

CARD_NAME, CARD_ID = "李测试", "110105198506141230"  # the simulator's "resident" identity
RESIDENCE = "11440300MB2D41730K000172102000000"  # 居住证申领


@pytest.fixture(params=[PORTRAIT, LANDSCAPE], ids=["portrait", "landscape"])
def kiosk(request: pytest.FixtureRequest, bus: Bus, stage: Stage, tmp_path: Path) -> Iterator[KioskDriver]:
    """kiosk-01 on screen in one orientation."""
    driver = KioskDriver(bus, stage, tmp_path, request.param, request.node.callspec.id)
    yield driver
    driver.close()


def test_whole_ticket_flow_by_touch(
    kiosk: KioskDriver, bus: Bus, kiosk_printer: tuple[PrinterAgent, PrinterSimulator]
) -> None:
    _, printer = kiosk_printer
    assert kiosk.shows("南山区政务服务中心") and kiosk.shows("当前排队") and kiosk.shows("公安服务")
    kiosk.shot("01-home")
    kiosk.tap("取号")
    kiosk.screen("identity")
    assert kiosk.shows("请将第二代居民身份证放在读卡区") and kiosk.shows("没带身份证？咨询类业务直接取号")
    kiosk.shot("02-identity")

    kiosk.swipe("resident")  # a real SAM_V exchange on the pty
    kiosk.until(lambda: kiosk.state.person is not None, "the card to be read", timeout=15)
    kiosk.screen("identity")
    assert kiosk.shows("李*试") and not kiosk.shows(CARD_NAME) and not any(CARD_ID in t for t in kiosk.texts())
    kiosk.shot("03-card-read")
    kiosk.tap("人脸核验")
    kiosk.until(lambda: kiosk.shows("请眨眨眼") or kiosk.state.screen == "domains", "face progress")
    kiosk.screen("domains")
    assert kiosk.state.person.method == "face"
    kiosk.shot("04-domains")

    kiosk.tap("按拼音首字母搜索（如 jzz = 居住证）")
    kiosk.screen("search")
    kiosk.type("jzz")
    kiosk.until(lambda: kiosk.shows("居住证申领"), "search results")
    kiosk.shot("05-search")
    kiosk.tap("返回")
    kiosk.screen("domains")
    kiosk.tap("户籍管理")
    kiosk.screen("items")
    kiosk.shot("06-items")
    kiosk.tap("返回")
    kiosk.tap("按拼音首字母搜索（如 jzz = 居住证）")
    kiosk.type("jzz")
    kiosk.until(lambda: kiosk.shows("居住证申领"), "search results")
    kiosk.tap("居住证申领")
    kiosk.screen("confirm")
    assert kiosk.shows("居住证申领") and kiosk.shows("李*试（1101**********1230）")
    assert kiosk.shows("办理窗口：1号窗口") and kiosk.shows("请确认已带齐以下材料")  # issue 18
    kiosk.shot("07-confirm")

    kiosk.tap("材料已备齐，确认取号")
    kiosk.screen("ticket")
    result = kiosk.state.result
    number = result["ticket"]
    assert kiosk.shows(number) and kiosk.shows(f"前面还有 {result['waiting_ahead']} 人")
    assert kiosk.shows("办理事项：居住证申领") and kiosk.shows("办理窗口：")
    server = bus.http.get(f"/api/v1/tickets/{result['ticket_id']}").json()
    assert server["number"] == number and server["masked_name"] == "李*试"
    assert printer.wait_for(lambda s: any(number in "\n".join(decode(d).lines) for d in s.documents()), timeout=10)
    kiosk.shot("08-ticket")

    # Nobody touches the kiosk: back home, nothing of the citizen left in memory or on screen.
    kiosk.ticker.now += kiosk.kiosk.profile.idle_timeout_s + 1
    kiosk.ui.tick()
    kiosk.screen("home")
    assert kiosk.state.person is None and kiosk.state.result is None
    shown = " ".join(kiosk.texts())
    assert "李" not in shown and "1101" not in shown and number not in shown


def test_guide_with_printed_checklist_and_qr(
    kiosk: KioskDriver, kiosk_printer: tuple[PrinterAgent, PrinterSimulator]
) -> None:
    from kiosk.terminal.screens.parts import QrCode

    _, printer = kiosk_printer
    kiosk.tap("办事指南")
    kiosk.screen("domains")
    kiosk.tap("居住登记与居住证")
    kiosk.screen("items")
    kiosk.tap("居住证申领")
    kiosk.screen("guide")
    assert kiosk.shows("所需材料") and kiosk.shows("受理条件") and kiosk.shows("手机扫码查看本指南")
    qr = [w for w in kiosk.widgets() if isinstance(w, QrCode)]
    assert qr and qr[0].qr_data.startswith("http://hall.test:8000/m/guide/")
    kiosk.tap("打印材料清单")
    kiosk.until(lambda: kiosk.shows("材料清单正在打印"), "the print confirmation")
    assert printer.wait_for(lambda s: any("办事材料清单" in "\n".join(decode(d).lines) for d in s.documents()), 10)
    kiosk.shot("09-guide")


def test_checkin_progress_evaluation_and_call_staff_screens(kiosk: KioskDriver, bus: Bus) -> None:
    kiosk.tap("预约签到")
    kiosk.screen("identity")
    assert kiosk.state.purpose == "checkin" and not kiosk.shows("没带身份证？咨询类业务直接取号")
    kiosk.type("K7M2Q9XA")
    kiosk.until(lambda: kiosk.shows("K7M2Q9XA"), "the booking code typed")
    kiosk.shot("09b-checkin")
    kiosk.tap("首页")
    kiosk.tap("进度查询")
    kiosk.screen("progress")
    kiosk.type("44030")
    kiosk.shot("10-progress")
    kiosk.tap("首页")
    kiosk.tap("服务评价")
    kiosk.screen("evaluation")
    kiosk.swipe("resident")
    kiosk.screen("visits", timeout=15)
    assert kiosk.shows("近7天没有您的办事记录")
    kiosk.shot("11-visits")
    kiosk.tap("首页")
    kiosk.tap("呼叫工作人员")
    kiosk.screen("assist")
    assert kiosk.shows("已通知工作人员")
    assert bus.http.get("/api/v1/assist-requests").json()[0]["device_id"] == "kiosk-01"
    kiosk.shot("12-assist")


def test_elderly_mode(kiosk: KioskDriver) -> None:
    kiosk.tap("大字版 长者模式")
    kiosk.until(lambda: kiosk.kiosk.session.elderly and kiosk.shows("标准版"), "大字版")
    kiosk.shot("13-elderly-home")
    kiosk.tap("取号")
    kiosk.screen("identity")
    kiosk.tap("没带身份证？咨询类业务直接取号")
    kiosk.screen("confirm")
    kiosk.shot("14-elderly-confirm")
    kiosk.tap("确认取号")
    kiosk.screen("ticket")
    assert kiosk.shows(kiosk.state.result["ticket"])
    kiosk.shot("14-elderly-ticket")
    kiosk.tap("首页")
    kiosk.tap("办事指南")
    kiosk.screen("domains")
    assert kiosk.shows("第 1/") and kiosk.shows("下一页")  # fewer choices per screen
    kiosk.shot("15-elderly-domains")
    kiosk.tap("首页")
    kiosk.tap("标准版")


def test_printer_failure_shows_the_ticket_with_a_qr_code(
    kiosk: KioskDriver, bus: Bus, kiosk_printer: tuple[PrinterAgent, PrinterSimulator]
) -> None:
    from kiosk.terminal.screens.parts import QrCode

    _, printer = kiosk_printer
    printer.set_state(paper="out")
    deadline = time.time() + 15
    while bus.gateway.seen["printer-kiosk-01"].status.get("paper") != "out" and time.time() < deadline:
        time.sleep(0.1)
    kiosk.tap("取号")
    kiosk.screen("identity")
    kiosk.tap("没带身份证？咨询类业务直接取号")
    kiosk.tap("确认取号")
    kiosk.screen("ticket")
    assert kiosk.shows("凭条未能打印") and kiosk.shows("打印机缺纸")
    qr = [w for w in kiosk.widgets() if isinstance(w, QrCode)]
    assert qr and qr[0].qr_data == kiosk.state.result["lookup_url"]  # the public link, never the ticket id
    assert "/m/t/" in qr[0].qr_data
    kiosk.shot("16-printer-failed")


def test_after_hours_24h_kiosk(bus: Bus, stage: Stage, tmp_path: Path) -> None:
    bus.clock.set(local(2026, 11, 22, 20, 30))  # Sunday evening
    for size, name in ((PORTRAIT, "24h-portrait"), (LANDSCAPE, "24h-landscape")):
        kiosk = KioskDriver(bus, stage, tmp_path / name, size, name, device="kiosk-24h-01")
        try:
            assert kiosk.shows("取号将于明天 09:00 恢复") and kiosk.shows("24小时自助：预约办事")
            kiosk.tap("取号")
            assert kiosk.state.screen == "home"
            kiosk.shot("17-closed-home")
            kiosk.tap("进度查询")
            kiosk.screen("progress")
        finally:
            kiosk.close()


def test_offline_says_so_keeps_guides_and_recovers(kiosk: KioskDriver, bus: Bus) -> None:
    bus.broker.stop()
    kiosk.until(lambda: kiosk.shows("暂停取号：无法连接大厅服务网络"), "the offline banner", timeout=10)
    kiosk.shot("18-offline-home")
    kiosk.tap("取号")
    assert kiosk.state.screen == "home"
    kiosk.tap("办事指南")
    kiosk.tap("按拼音首字母搜索（如 jzz = 居住证）")
    kiosk.type("jzz")
    kiosk.until(lambda: kiosk.shows("居住证申领"), "offline search")
    kiosk.shot("19-offline-search")
    kiosk.tap("首页")
    bus.broker.start()
    kiosk.until(lambda: kiosk.kiosk.service.online and kiosk.shows("● 网络正常"), "recovery", timeout=40)
    assert not kiosk.shows("暂停取号")


def test_demo_control_swipes_a_test_card(kiosk: KioskDriver, stage: Stage) -> None:
    from kivy.uix.button import Button

    kiosk.tap("取号")
    kiosk.screen("identity")
    kiosk.tap("演示：刷身份证")
    stage.pump(3)
    shown = [w for top in stage.window.children for w in top.walk() if isinstance(w, Button)]
    popup_buttons = [w for w in shown if "（resident）" in w.text]
    assert popup_buttons, "the demo list of test identities"
    assert all("李测试" not in w.text for w in shown)  # masked, like everything on screen
    kiosk.shot("20-demo-cards")
    stage.tap(popup_buttons[0])
    kiosk.until(lambda: kiosk.state.person is not None, "the demo card to be read", timeout=15)
    assert kiosk.state.person.masked_name == "李*试"


def test_rate_a_visit_and_query_progress_by_card(kiosk: KioskDriver, bus: Bus) -> None:
    from tests.ui.helpers import serve

    body = {"item_code": RESIDENCE, "identity": {"method": "id_card", "id_number": CARD_ID, "name": CARD_NAME}}
    response = bus.http.post("/api/v1/tickets", json=body)
    assert response.status_code == 201, response.text
    serve(bus, "w01", outcome="受理")  # accepted: a case with a serial number, promised in working days

    kiosk.tap("进度查询")
    kiosk.screen("progress")
    kiosk.swipe("resident")
    kiosk.screen("progress_result", timeout=15)
    assert kiosk.shows("居住证申领") and kiosk.shows("办理状态：已受理")
    kiosk.shot("10b-progress-result")
    kiosk.tap("首页")

    kiosk.tap("服务评价")
    kiosk.screen("evaluation")
    kiosk.swipe("resident")
    kiosk.screen("visits", timeout=15)
    row = next(t for t in kiosk.texts() if "居住证申领" in t)
    kiosk.shot("11b-visits")
    kiosk.tap(row)
    kiosk.screen("rate", timeout=15)  # only after the server checked the card against the visit (visit.check)
    assert kiosk.shows("1号窗口") and kiosk.shows("居住证申领")
    assert any("工作人员" in t and "*" in t for t in kiosk.texts())  # the staff member's name, masked
    kiosk.shot("11c-rate")
    kiosk.tap("非常满意")
    kiosk.screen("thanks")
    kiosk.shot("11d-thanks")
    ratings = bus.http.get("/api/v1/evaluations").json()
    assert any(e["channel"] == "kiosk" and e["level"] == 5 for e in ratings), ratings
