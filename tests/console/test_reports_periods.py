"""季考评 and 年总评 over REST, in Excel and in Chromium (1366 wide): the period chosen, a clear title and
period on top, a period not yet over marked partial, the departments' 限时办结 on-time rate, bad periods
refused with a Chinese message, and the same role checks as the 月考核 sheet. Figures as worked out in
tests/integration/test_assessment_periods.py (the hall's clock: Monday 2026-11-23)."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from hallcore.complaints import ComplaintSubmit
from hallserver.presentation import excel
from hallserver.services import complaints
from tests.conftest import login
from tests.console.conftest import Console
from tests.console.test_reports import API, client, ok  # noqa: F401  (the logged-in manager client)
from tests.integration.test_assessment_periods import seed


def complain(client: TestClient) -> None:  # noqa: F811
    """One complaint received today (2026-11-23, in Q4), through the ledger's service."""
    hall = client.app.state.hall  # type: ignore[attr-defined]
    with hall.tx() as s:
        cmd = ComplaintSubmit(kind="complaint", content="窗口等候时间太长，无人解释")
        complaints.submit(s, hall.ctx, cmd, channel="window", by="m01")


def sheet_of(client: TestClient, **params: str) -> dict:  # type: ignore[type-arg]  # noqa: F811
    return ok(client.get(f"{API}/reports/assessment", params=params))  # type: ignore[no-any-return]


def test_quarter_and_year_over_rest_and_in_excel(client: TestClient) -> None:  # noqa: F811
    seed(client.app.state.hall.engine)  # type: ignore[attr-defined]
    complain(client)
    q3 = sheet_of(client, quarter="2026-Q3")
    assert (q3["period"], q3["label"], q3["from"], q3["to"], q3["partial"]) == (
        "quarter",
        "2026-Q3",
        "2026-07-01",
        "2026-09-30",
        False,
    )
    assert q3["title"] == "南山区政务服务中心工作人员季考评表" and q3["period_text"] == "2026年第三季度"
    s06 = next(r for r in q3["rows"] if r["staff_id"] == "s06")
    assert (s06["visits"], s06["good_rate"]) == (2, 1.0)
    police = next(d for d in q3["departments"] if d["department"] == "市公安局")
    assert (police["cases_due"], police["cases_on_time"], police["cases_late"], police["on_time_rate"]) == (
        4,
        2,
        2,
        0.5,
    )
    assert q3["on_time"]["on_time_rate"] == 0.5

    year = sheet_of(client, year="2026")
    assert year["title"].endswith("年总评表") and year["partial"] and "尚未结束" in year["period_line"]
    assert year["on_time"] == {
        "cases_due": 8,
        "cases_on_time": 4,
        "cases_late": 2,
        "cases_overdue": 1,
        "on_time_rate": round(4 / 7, 4),
    }

    xlsx = client.get(f"{API}/reports/assessment", params={"quarter": "2026-Q4", "format": "xlsx"})
    assert xlsx.status_code == 200 and "quarter-assessment-2026-Q4" in xlsx.headers["content-disposition"]
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["季考评2026-Q4", "部门汇总2026-Q4", "投诉2026-Q4", "指标说明"]
    ledger = {r[0]: r[1] for r in book["投诉2026-Q4"].iter_rows(min_row=5, values_only=True)}
    assert ledger["收到投诉及办不成事反映（件）"] == 1 and ledger["其中：投诉"] == 1
    ws = book["季考评2026-Q4"]
    assert ws["A1"].value == "南山区政务服务中心工作人员季考评表"
    assert ws["A2"].value.startswith("考核期间：2026年第四季度（2026-10-01 至 2026-12-31）")
    assert "尚未结束" in ws["A2"].value  # Q4 is not over on 2026-11-23
    assert ws["A3"].value == "限时办结：应办结3件，按时办结1件，超期办结0件，超期未办结1件，按时办结率50.0%。"
    departments = book["部门汇总2026-Q4"]
    top = excel.header_row(excel.Sheet("", [], [], ("", "", "")))
    header = [c.value for c in departments[top]]
    assert departments["A1"].value == ws["A1"].value and header[-1] == "按时办结率"
    lines = {r[0]: r for r in departments.iter_rows(min_row=top + 1, values_only=True)}
    medical = dict(zip(header, lines["市医疗保障局"], strict=True))
    assert (medical["办件量"], medical["应办结件数"], medical["超期未办结"], medical["按时办结率"]) == (1, 2, 1, 0.0)
    police_q4 = dict(zip(header, lines["市公安局"], strict=True))
    assert (police_q4["应办结件数"], police_q4["按时办结"], police_q4["按时办结率"]) == (1, 1, 1.0)
    rate_cell = departments.cell(row=top + 1, column=len(header))
    assert rate_cell.number_format == "0.0%"

    year_book = load_workbook(
        io.BytesIO(client.get(f"{API}/reports/assessment", params={"year": "2026", "format": "xlsx"}).content)
    )
    assert year_book.sheetnames[0] == "年总评2026" and year_book["年总评2026"]["A2"].value.startswith(
        "考核期间：2026年度"
    )

    # The quarter's report carries the 限时办结 too, and its Excel the 季考评 beside the report sheets.
    report = ok(client.get(f"{API}/reports", params={"period": "quarter", "day": "2026-09-15", "by": "item"}))
    assert report["on_time"]["rate"] == 0.5 and report["rows"][0]["on_time_rate"] == 0.5
    report_book = load_workbook(
        io.BytesIO(
            client.get(f"{API}/reports", params={"period": "quarter", "day": "2026-09-15", "format": "xlsx"}).content
        )
    )
    assert "季考评2026-Q3" in report_book.sheetnames


def test_bad_periods_and_roles(client: TestClient) -> None:  # noqa: F811
    seed(client.app.state.hall.engine)  # type: ignore[attr-defined]
    for params in (
        {"quarter": "2026-Q5"},
        {"quarter": "2026Q1"},
        {"year": "26"},
        {"year": "1999"},
        {"month": "2026-13"},
        {"quarter": "2026-Q1", "year": "2026"},
    ):
        refused = client.get(f"{API}/reports/assessment", params=params)
        assert refused.status_code == 400, params
        error = refused.json()["error"]
        assert error["code"] == "invalid" and any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])
    future = client.get(f"{API}/reports/assessment", params={"quarter": "2027-Q1"})
    assert future.status_code == 400 and "尚未开始" in future.json()["error"]["message"]

    staff = login(client, "s01")
    assert client.get(f"{API}/reports/assessment", params={"year": "2026"}, headers=staff).status_code == 403
    chief = login(client, "s05")  # 市公安局's 首席代表: their people and their department's cases only
    own = ok(client.get(f"{API}/reports/assessment", params={"year": "2026"}, headers=chief))
    assert {r["department"] for r in own["rows"]} == {"市公安局"}
    assert [d["department"] for d in own["departments"]] == ["市公安局"]
    assert own["complaints"] is None  # the ledger is the whole hall's
    assert own["on_time"]["cases_due"] == 6 and own["on_time"]["on_time_rate"] == round(4 / 6, 4)


def test_the_page_picks_a_quarter_and_a_year(console: Console) -> None:
    seed(console.hall.http.app.state.hall.engine)  # type: ignore[attr-defined]
    complain(console.hall.http)
    console.login("m01", then="/console/reports-assessment?quarter=2026-Q3")
    console.ready()
    console.wait(lambda d: d.find_element("tag name", "body").get_attribute("data-loaded") == "quarter-2026-Q3", "Q3")
    assert console.text("#sheet-title") == "南山区政务服务中心工作人员季考评表"
    assert "2026年第三季度" in console.text("#sheet-period") and not console.all("#partial-note")
    row = console.find("#department-table tr[data-department='市公安局']").text
    assert "50.0%" in row
    assert "按时办结率 50.0%" in console.text("#hall-on-time")
    assert console.driver.execute_script("return document.documentElement.scrollWidth") <= 1366
    console.screenshot("reports-assessment-quarter")

    # The year: choose 年总评 in the selector (the year field stays, the quarter field hides).
    console.driver.execute_script(
        "const p = document.getElementById('period'); p.value = 'year';"
        "p.dispatchEvent(new Event('change', {bubbles: true}))"
    )
    console.wait(lambda d: d.find_element("tag name", "body").get_attribute("data-loaded") == "year-2026", "year")
    assert console.text("#sheet-title").endswith("年总评表")
    assert "尚未结束" in console.text("#partial-note")
    assert "按时办结率 57.1%" in console.text("#hall-on-time")
    assert console.find("#year").is_displayed()
    assert not console.driver.find_element("id", "quarter").is_displayed()
    s06 = console.find("#assessment-table tr[data-staff='s06']").text
    assert "杨帆" in s06 and "100.0%" in s06
    assert "收到投诉及办不成事反映（件）\n1" in console.text("#complaints-table").replace(" ", "\n")
    console.screenshot("reports-assessment-year")

    # A quarter not begun yet: the server's message, the sheet left as it was.
    console.driver.execute_script(
        "document.getElementById('period').value = 'quarter'; const y = document.getElementById('year');"
        "y.value = '2027'; y.dispatchEvent(new Event('change', {bubbles: true}))"
    )
    console.wait_text("#toasts", "尚未开始")
    assert console.text("#sheet-title").endswith("年总评表")

    # The reports page: the quarter's 限时办结 in the summary, and per department in the table.
    console.open("/console/reports")
    console.ready()
    console.find("#period-tabs [data-period='quarter']").click()
    console.find("#by-choice input[value='department']").click()
    console.wait(
        lambda d: d.find_element("tag name", "body").get_attribute("data-loaded") == "quarter-department-2026-11-23",
        "quarter by department",
    )
    assert console.text("#sum-cases-ontime") == "按时办结率\n50.0%（1/2件）"  # one on time, one open and overdue
    medical = console.find("#report-table tr[data-key='市医疗保障局']")
    assert medical.find_element("css selector", "td[data-col='on_time_rate']").text == "0.0%"
    assert medical.find_element("css selector", "td[data-col='cases_due']").text == "2"
    console.screenshot("reports-quarter-department")
