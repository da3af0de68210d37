"""投诉与办不成事 in headless Chromium (1366×900): window staff record a 办不成事 request at the window (and
may not handle it); the hall manager classifies it out of the remit, records the transfer, answers, prints
the 书面答复 and closes it with the citizen's feedback. Names and phones show masked only."""

from __future__ import annotations

from selenium.webdriver.common.by import By

from tests.console.conftest import Console

NAME, PHONE = "欧阳小明", "13912345678"


def _prompt(console: Console, name: str, value: str) -> None:
    field = console.find(f"dialog[open] [name='{name}']")
    field.send_keys(value)
    console.find("dialog[open] button[type='submit']").click()


def test_window_records_and_manager_closes(console: Console) -> None:
    console.login("s18", "/console/complaints")
    console.ready()
    assert "投诉与办不成事" in console.text("#nav")
    console.find("#c-content").send_keys("短")
    console.find("#c-submit").click()
    console.wait_text("#toasts", "至少用5个字")
    console.find("#c-content").clear()
    console.find("#c-content").send_keys("社保关系转移在三个窗口之间来回跑，至今没有办成")
    console.find("#c-name").send_keys(NAME)
    console.find("#c-phone").send_keys(PHONE)
    console.find("#c-written").click()
    console.find("#c-submit").click()
    console.wait_text("#toasts", "已受理")
    facts = console.wait_text("#complaint-facts", "欧**明")
    assert "139****5678" in facts and "待分类" in facts
    ref = console.driver.find_element(By.CSS_SELECTOR, "body").get_attribute("data-shown")
    assert ref and ref.startswith("TS")
    assert not console.all("#do-classify")  # staff record, chiefs and managers handle
    console.screenshot("complaints-recorded")

    console.login("m01", "/console/complaints")
    console.ready()
    console.find(f"#complaint-table tr[data-reference='{ref}']").click()
    console.wait_text("#complaint-facts", ref)
    console.find("#do-classify").click()
    console.find("#out-remit").click()
    _prompt(console, "department", "区人力资源局")
    console.wait_text("#complaint-facts", "移交区人力资源局")
    console.find("#do-assign").click()
    _prompt(console, "assignee", "区人力资源局")
    console.wait_text("#complaint-facts", "办理中")
    console.find("#do-answer").click()
    reply = "经与区人力资源局核实，社保关系转移已办结，请留意短信通知。"
    _prompt(console, "reply", reply)
    preview = console.wait_text("#reply-preview", reply)
    assert "书面答复" in preview and "欧**明" in preview and "区人力资源局" in preview
    console.driver.execute_script("window.print = () => { window.__printed = (window.__printed || 0) + 1; };")
    console.find("#print-reply").click()
    console.wait(lambda d: d.execute_script("return window.__printed") == 1, "print was not called")
    console.find("#do-close").click()
    console.find("#fb-satisfied").click()
    console.wait_text("#complaint-facts", "满意")
    steps = console.text("#complaint-steps")
    assert "登记（s18）" in steps and "移交主管部门（m01）" in steps and "办结（m01）" in steps
    console.screenshot("complaints-closed")
    assert NAME not in console.driver.page_source and PHONE not in console.driver.page_source
