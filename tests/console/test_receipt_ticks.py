"""The finish dialog in headless Chromium: staff untick a material the applicant did not hand in, and the
受理凭证 sent to the window's printer lists it as still to hand in, not as received."""

from __future__ import annotations

from selenium.webdriver.common.by import By

from kiosk.printer.decoder import decode
from kiosk.printer.layout import render
from tests.console.conftest import Console, LiveHall
from tests.console.test_staff_console import issue

PHOTO = "符合居住证标准的本人近期免冠彩色相片"


def test_staff_tick_what_was_handed_in(console: Console, live_hall: LiveHall) -> None:
    bus = live_hall.bus
    _, jobs = bus.device("printer-w05", bus.topics.device("printer-w05", "job"), replies=False)
    issue(live_hall, 21)
    console.login("s05", then="/console/staff")
    console.ready()
    console.find("#btn-call").click()
    console.wait_text("#ticket-number", "A001")
    console.find("#btn-start").click()
    console.wait_text("#ticket-state", "办理中")
    console.find("#btn-finish").click()
    console.driver.find_element(By.CSS_SELECTOR, "#outcomes input[value='受理']").click()
    photo = console.find(f"#received-picker input[value='{PHOTO}']")
    assert photo.is_selected()  # required materials start ticked
    school = console.find("#received-picker input[value='学校出具的在读证明']")
    assert not school.is_selected()  # demanded only in some cases (one proof of three): staff tick it if handed in
    assert not console.all("#received-picker input[value='营业执照']")  # data-shared: never asked for
    photo.click()  # the applicant brought no photo
    console.screenshot("staff-finish-received")
    console.find("#finish-submit").click()
    console.wait_text("#toasts", "受理凭证已发送到窗口打印机")

    job = jobs.wait_for(lambda t, p: p is not None and p["kind"] == "receipt", timeout=10)
    assert job is not None
    doc = job["document"]
    received = [m["name"] for m in doc["materials_received"]]
    assert PHOTO not in received and "申请人居民身份证" in received and "居住证申领登记表" in received
    assert [m["name"] for m in doc["materials_to_supplement"]] == [PHOTO]
    text = "".join(line.strip() for line in decode(render("receipt", doc)).lines)
    assert "需补正材料（1项）" in text
