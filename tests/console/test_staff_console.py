"""The staff console in real headless Chromium: call next (the window display's retained topic changes),
serve, finish with 补正 picking materials in the page, and the 一次性告知书 comes out of the window's printer
(a real agent on the byte-level simulator, decoded); the audited identity reveal; pause and resume."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from kiosk.printer.agent import PrinterAgent
from kiosk.printer.decoder import decode
from kiosk.printer.simulator import PrinterSimulator
from tests.console.conftest import SCREENS, Console, LiveHall
from tests.integration.helpers import id_number
from tests.printer.conftest import bus_settings, printer_profile

API = "/api/v1"
ITEM = "11440300MB2D41730K000172102000000"  # 居住证申领
PRINTER = "printer-w05"


@pytest.fixture
def window_printer(live_hall: LiveHall, tmp_path: Path) -> Iterator[PrinterSimulator]:
    """w05's printer: a real printer agent on the byte-level simulator."""
    with PrinterSimulator(port=0) as sim:
        broker = live_hall.bus.broker
        agent = PrinterAgent(
            printer_profile(broker, PRINTER, sim.port, poll_s=1),
            bus_settings(broker, PRINTER),
            tmp_path / "printer-state",
            status_timeout_s=0.5,
        )
        agent.start()
        assert agent.bus.wait_connected(5) and agent.ready.wait(5), "the w05 printer agent did not start"
        live_hall.bus.wait_online(PRINTER)
        try:
            yield sim
        finally:
            agent.stop()


def issue(live_hall: LiveHall, seed: int, name: str = "张小三") -> str:
    response = live_hall.http.post(
        f"{API}/tickets",
        json={"item_code": ITEM, "identity": {"method": "id_card", "id_number": id_number(seed), "name": name}},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["ticket"])


def press(console: Console, key: str) -> None:
    console.driver.find_element(By.TAG_NAME, "body").send_keys(key)


def test_call_serve_and_print_the_one_time_notice(
    console: Console, live_hall: LiveHall, window_printer: PrinterSimulator
) -> None:
    bus = live_hall.bus
    state_topic = bus.topics.window_state("w05")
    _, display = bus.device("display-w05", state_topic, replies=False)
    display.wait_for(lambda t, p: t == state_topic and p is not None and p["serving"] is None)
    assert issue(live_hall, 1) == "A001"

    console.login("s05", then="/console/staff")
    console.ready()
    console.wait_text("#window-select", "5号窗口（A角）")
    console.wait_text("#ticket-item", "F1")
    console.screenshot("staff-idle")
    press(console, Keys.F1)  # 叫号
    console.wait_text("#ticket-number", "A001")
    shown = display.wait_for(lambda t, p: t == state_topic and p is not None and p["serving"] == "A001")
    assert shown is not None and shown["window_id"] == "w05"
    console.wait_text("#guide-name", "居住证申领")
    assert console.text("#applicant-name") == "张*三"

    press(console, Keys.F4)  # 开始办理
    console.wait_text("#ticket-state", "办理中")
    bus.clock.advance(minutes=4)

    # 查看完整身份: a purpose is asked, the reveal is audited.
    console.find("#btn-reveal").click()
    console.find("dialog[open] input[name=purpose]").send_keys("核对申请表身份信息")
    console.find("dialog[open] button[type=submit]").click()
    console.wait_text("#applicant-name", "张小三")
    console.wait_text("#applicant", "审计")
    console.screenshot("staff-serving")

    # 办结 → 补正 with two materials ticked in the picker.
    press(console, Keys.F8)
    console.find("#outcomes")
    console.driver.find_element(By.CSS_SELECTOR, "#outcomes input[value='补正']").click()
    missing = ["居住证申领登记表", "符合居住证标准的本人近期免冠彩色相片"]
    for name in missing:
        console.find(f"#material-picker input[value='{name}']").click()
    console.screenshot("staff-finish-dialog")
    console.find("#finish-submit").click()
    console.wait_text("#toasts", "一次性告知书已发送到窗口打印机")
    console.wait_text("#ticket-number", "—")

    assert window_printer.wait_for(lambda s: len(s.documents()) >= 1, timeout=15), "nothing was printed"
    printed = decode(window_printer.documents()[-1])
    text = "\n".join(printed.lines)
    (SCREENS / "console-printed-notice.txt").write_text(text, encoding="utf-8")  # looked at with the screenshots
    assert "一次性告知书" in text and "居住证申领" in text and "张*三" in text
    for name in missing:
        assert name[:8] in text.replace("\n", ""), f"{name} not on the notice:\n{text}"
    assert "申请人居民身份证" not in text  # only what is missing
    console.wait_text("#visits", "补正")
    console.screenshot("staff-after-finish")

    # 重新打印 (F10) sends the same notice again.
    press(console, Keys.F10)
    assert window_printer.wait_for(lambda s: len(s.documents()) >= 2, timeout=15)


def test_the_server_refuses_and_the_page_says_why(console: Console, live_hall: LiveHall) -> None:
    issue(live_hall, 2)
    console.login("s05", then="/console/staff")
    console.ready()
    console.find("#btn-call").click()
    console.wait_text("#ticket-number", "A001")
    console.find("#btn-start").click()
    console.wait_text("#ticket-state", "办理中")
    console.find("#btn-finish").click()
    console.driver.find_element(By.CSS_SELECTOR, "#outcomes input[value='补正']").click()
    console.find("#finish-submit").click()  # no material ticked
    assert "一次性告知" in console.wait_text("#finish-error", "材料")
    console.driver.find_element(By.CSS_SELECTOR, "#outcomes input[value='不予受理']").click()
    console.find("#finish-submit").click()  # no reason
    console.wait_text("#finish-error", "不予受理须写明理由")
    console.find("#reject-reason").send_keys("不属于本中心受理范围")
    console.find("#finish-submit").click()
    console.wait_text("#toasts", "不予受理凭证")
    console.wait_text("#visits", "不予受理")  # the page has refreshed (keys are ignored while it works)

    # 暂停服务 (F9) with a reason; 叫号 is refused while paused; 恢复服务.
    press(console, Keys.F9)
    console.find("dialog[open] input").send_keys("临时离开")
    console.find("dialog[open] button[type=submit]").click()
    console.wait_text("#window-status", "暂停服务：临时离开")
    assert not console.find("#btn-call").is_enabled()
    console.screenshot("staff-paused")
    press(console, Keys.F9)
    console.wait_text("#window-status", "服务中")


def test_suspend_resume_and_transfer(console: Console, live_hall: LiveHall) -> None:
    issue(live_hall, 3)
    issue(live_hall, 4, "李四")
    console.login("s05", then="/console/staff")
    console.ready()
    press(console, " ")  # Space = 叫号
    console.wait_text("#ticket-number", "A001")
    press(console, Keys.F4)
    console.wait_text("#ticket-state", "办理中")
    press(console, Keys.F7)  # 挂起
    console.find("dialog[open] input").send_keys("群众去复印材料")
    console.find("dialog[open] button[type=submit]").click()
    console.wait_text("#suspended", "A001")
    press(console, Keys.F1)
    console.wait_text("#ticket-number", "A002")
    console.screenshot("staff-suspended")

    # 转办 A002 to window 6 (keeps its place); then take A001 up again.
    press(console, Keys.F6)
    console.find("dialog[open] input[value='window']").click()
    Select(console.find("dialog[open] select[name=to_window]")).select_by_value("w06")
    console.screenshot("staff-transfer-dialog")
    console.find("dialog[open] button[type=submit]").click()
    console.wait_text("#toasts", "A002号已转办")
    console.wait_text("#ticket-number", "—")
    console.find("#suspended button").click()
    console.wait_text("#ticket-number", "A001")
    console.wait_text("#ticket-state", "办理中")
    called = live_hall.http.post(f"{API}/windows/w06/call-next", headers=live_hall.headers("s06"))
    assert called.status_code == 200 and called.json()["ticket"]["number"] == "A002"
