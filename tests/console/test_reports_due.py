"""The reports page in headless Chromium with a rectification that is not yet due: neither the row nor the
page's summary calls it 0.0% on time (it says 未到期); once its deadline passes still open, it is late."""

from __future__ import annotations

from tests.console.conftest import Console
from tests.rating_proofs import proven

API = "/api/v1"


def open_reports(console: Console) -> None:
    console.login("m01", then="/console/reports")
    console.ready()
    console.wait_text("#report-table", "17号窗口")


def test_a_rectification_not_yet_due_is_not_late(console: Console) -> None:
    http, clock = console.hall.http, console.hall.bus.clock
    http.post(f"{API}/tickets", json={"group": "consult"}).raise_for_status()
    for action in ("call-next", "start"):
        http.post(f"{API}/windows/w17/{action}").raise_for_status()
    http.post(f"{API}/windows/w17/finish", json={"outcome": "咨询"}).raise_for_status()
    visit = http.get(f"{API}/visits", params={"window_id": "w17"}).json()[-1]["id"]
    http.post(f"{API}/evaluations", json=proven(http, {"visit_id": visit, "level": 1})).raise_for_status()

    open_reports(console)
    assert console.text("#sum-ontime") == "按期整改率\n未到期"
    assert console.text("#report-table td[data-col='rectified_on_time_rate']") == "未到期"
    assert console.text("#report-table td[data-col='rectifications']") == "1"
    console.screenshot("reports-not-yet-due")

    clock.advance(days=10)  # past the deadline and still open: late
    console.login("m01", then="/console/reports")  # the 12-hour login ran out meanwhile
    console.ready()
    console.driver.execute_script(
        "const d = document.getElementById('report-day'); d.value = '2026-11-23';"
        "d.dispatchEvent(new Event('change', {bubbles: true}))"
    )
    console.wait_text("#sum-ontime", "0.0%")
    assert console.text("#report-table td[data-col='rectified_on_time_rate']") == "0.0%"
