"""The reports page and the printable 月考核表 in headless Chromium: charts and table for each period,
the Excel file downloaded by the browser matches the report, the assessment sheet prints on A4."""

from __future__ import annotations

import base64
import io
import time
from pathlib import Path

from openpyxl import load_workbook
from selenium.webdriver.common.by import By

from hallserver.api.reports import HEADERS
from tests.console.conftest import SCREENS, Console
from tests.console.test_reports import serve
from tests.rating_proofs import proven


def seed(console: Console) -> None:
    """Three consultations at 16号窗口, one at 17号窗口, a 差评 rectified on time."""
    http, clock = console.hall.http, console.hall.bus.clock
    visits = [serve(http, clock, "w16", 5 * i, 10) for i in (1, 2, 3)] + [serve(http, clock, "w17", 2, 4)]
    http.post("/api/v1/evaluations", json=proven(http, {"visit_id": visits[0], "level": 5}))
    bad = http.post("/api/v1/evaluations", json=proven(http, {"visit_id": visits[1], "level": 1}))
    case = bad.json()["rectification_id"]
    http.post(f"/api/v1/rectifications/{case}/callback", json={"note": "已电话回访"})
    http.post(f"/api/v1/rectifications/{case}/rectify", json={"measures": "增开窗口", "result": "已整改"})


def loaded(console: Console, marker: str) -> None:
    console.wait(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == marker, marker)


def test_reports_page_charts_excel_and_assessment(console: Console, tmp_path: Path) -> None:
    seed(console)
    console.driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    console.login("m01", then="/console/reports")
    console.ready()
    loaded(console, "day-window-2026-11-23")
    assert len(console.all("#charts .chart svg")) == 5
    assert len(console.all("#charts [data-chart='visits'] rect.bar")) == 2
    table = console.text("#report-table")
    assert "16号窗口" in table and "50.0%" in table
    assert console.text("#sum-visits") == "办件量\n4"
    console.screenshot("reports")

    console.find("#period-tabs [data-period='month']").click()
    loaded(console, "month-window-2026-11-23")
    console.find("#by-choice input[value='staff']").click()
    loaded(console, "month-staff-2026-11-23")
    assert "郭颖" in console.text("#report-table")
    console.screenshot("reports-month-staff")

    console.find("#export-xlsx").click()
    xlsx = wait_file(tmp_path, "hallq-month-20261101.xlsx")
    report = console.hall.http.get("/api/v1/reports", params={"period": "month", "by": "staff"}).json()
    sheet = load_workbook(io.BytesIO(xlsx.read_bytes()))["按人员"]
    assert sheet["A1"].value.startswith("月报") and [c.value for c in sheet[4]] == list(HEADERS.values())
    for index, row in enumerate(report["rows"], start=5):
        assert [sheet.cell(row=index, column=c).value for c in range(1, len(HEADERS) + 1)] == list(row.values())

    console.find("#assessment-link").click()
    console.ready()
    console.wait_text("#assessment-table", "郭颖")
    row = console.find("#assessment-table tr[data-staff='s16']").text
    assert "郭颖" in row and "16号窗口A" in row and "50.0%" in row
    assert "非考勤打卡" in console.text("#legend")
    console.screenshot("reports-assessment")
    console.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert not console.driver.find_element(By.ID, "top").is_displayed()  # no header or buttons on paper
    console.driver.set_window_size(1060, 1500)  # A4 landscape's printable width at 96 dpi
    console.driver.save_screenshot(str(SCREENS / "console-reports-assessment-print.png"))
    width = console.driver.execute_script("return document.getElementById('assessment-table').scrollWidth")
    assert width <= 1060, f"the sheet is {width}px wide: it would be clipped on A4"
    pdf = console.driver.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True, "printBackground": True})
    (SCREENS / "console-reports-assessment.pdf").write_bytes(base64.b64decode(pdf["data"]))
    console.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def wait_file(folder: Path, name: str, timeout: float = 10) -> Path:
    """A file the browser finished downloading."""
    path = folder / name
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and not (folder / f"{name}.crdownload").exists() and path.stat().st_size:
            return path
        time.sleep(0.1)
    raise AssertionError(f"{name} was not downloaded; folder has {[p.name for p in folder.iterdir()]}")
