"""The department case desk in headless Chromium (1366×900): a 首席代表 opens 办件管理, starts the review,
denies a case with a written reason and prints the 不予批准决定书; overdue cases have their own tab; staff
of another department see none of 公安's cases."""

from __future__ import annotations

from typing import Any

from hallcore.clock import ManualClock
from tests.cases.conftest import ITEM, ok
from tests.console.conftest import Console
from tests.integration.helpers import id_number

API = "/api/v1"


def _accept(console: Console, seed: int) -> str:
    """A real-name 居住证申领 accepted at w05 (as the hall manager, in-process); its serial number."""
    http = console.hall.http
    ident = {"method": "id_card", "id_number": id_number(seed), "name": "李小明"}
    ok(http.post(f"{API}/tickets", json={"item_code": ITEM, "identity": ident}), 201)
    ok(http.post(f"{API}/windows/w05/call-next"))
    ok(http.post(f"{API}/windows/w05/start"))
    ok(http.post(f"{API}/windows/w05/finish", json={"outcome": "受理"}))
    visits: list[dict[str, Any]] = ok(http.get(f"{API}/visits", params={"window_id": "w05"}))
    return str(visits[-1]["serial_no"])


def test_chief_denies_a_case_and_prints_the_decision(console: Console, clock: ManualClock) -> None:
    serial = _accept(console, 1)
    console.login("s05", "/console/cases")  # 首席代表 of 市公安局
    console.ready()
    row = console.find(f"#case-table tr[data-serial='{serial}']")
    assert "李*明" in row.text and "已受理" in row.text and "11440300" not in console.text("#case-stats")
    row.click()
    console.wait_text("#case-facts", "居住证申领")
    assert "告知承诺制\n适用" in console.text("#case-facts")
    console.find("#case-actions button[data-action='reviewing']").click()
    console.wait_text("#case-history", "审查中")

    console.find("#case-actions button[data-action='denied']").click()
    console.find("#case-form textarea[name='reason']").send_keys("短")
    console.find("#case-form button[type='submit']").click()
    console.wait_text("#toasts", "理由")  # the server's Chinese message; nothing changed
    assert "审查中" in console.text("#case-facts")
    reason = "申请人提交的居住登记信息与实际居住情况不符，不符合《居住证暂行条例》第九条规定的申领条件"
    console.find("#case-actions button[data-action='denied']").click()
    console.find("#case-form textarea[name='reason']").send_keys(reason)
    console.find("#case-form button[type='submit']").click()
    console.wait_text("#case-facts", "不予批准")
    preview = console.wait_text("#decision-preview", reason)
    assert "不予批准决定书" in preview and "李*明" in preview and serial in preview
    assert "行政复议" in preview and "市公安局人口管理支队（盖章）" in preview
    assert "李小明" not in console.driver.page_source
    console.driver.execute_script("window.print = () => { window.__printed = (window.__printed || 0) + 1; };")
    console.find("#print-decision").click()
    console.wait(lambda d: d.execute_script("return window.__printed") == 1, "print was not called")
    sheet = console.driver.execute_script("return document.querySelector('#decision-sheet').innerText")
    assert reason in sheet and "不予批准决定书" in sheet
    console.screenshot("cases-decision")
    assert not console.all("#case-actions button[data-action]")  # a denial is final

    # The progress query (what the kiosk asks) now shows the denial.
    (case,) = ok(console.hall.http.get(f"{API}/progress", params={"serial_no": serial}))
    assert case["status"] == "不予批准"


def test_overdue_tab_and_other_departments(console: Console, clock: ManualClock) -> None:
    serial = _accept(console, 2)
    promised = ok(console.hall.http.get(f"{API}/cases/{serial}"))["row"]["promised_date"]
    clock.advance(days=20)
    console.login("s05", "/console/cases")
    console.ready()
    assert "已超期" in console.text("#case-stats")
    console.find("#case-tabs .tab[data-tab='overdue']").click()
    late = console.wait_text(f"#case-table tr[data-serial='{serial}']", "超期")  # the tab re-renders the list
    assert promised in late
    console.screenshot("cases-overdue")

    console.login("s01", "/console/cases")  # 区政务服务数据管理局: no 公安 cases
    console.ready()
    assert console.text("#case-empty") == "没有办件"
