"""Reports for the console: Excel export checked cell by cell against the JSON report, the 月考核 sheet,
and the server-side SVG charts (labels, number of bars, well-formed XML)."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, func, select

from hallcore.clock import ManualClock
from hallserver.api.reports import HEADERS
from hallserver.models import Visit
from hallserver.presentation import charts
from tests.conftest import login
from tests.rating_proofs import proven

API = "/api/v1"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def client(hall_client: TestClient) -> TestClient:
    """The demo hall without a bus, logged in as manager m01."""
    hall_client.headers.update(login(hall_client, "m01"))
    return hall_client


def ok(response: Any) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()


def serve(client: TestClient, clock: ManualClock, window: str, wait_min: int, service_min: int) -> int:
    """Issue a consultation ticket, call it after `wait_min`, serve it for `service_min`: the visit id."""
    ok(client.post(f"{API}/tickets", json={"group": "consult"}))
    clock.advance(minutes=wait_min)
    ok(client.post(f"{API}/windows/{window}/call-next"))
    ok(client.post(f"{API}/windows/{window}/start"))
    clock.advance(minutes=service_min)
    ok(client.post(f"{API}/windows/{window}/finish", json={"outcome": "咨询"}))
    with Session(client.app.state.hall.engine) as s:  # type: ignore[attr-defined]
        return int(s.exec(select(func.max(Visit.id))).one() or 0)


@pytest.fixture
def seeded(client: TestClient, clock: ManualClock) -> dict[str, int]:
    """Three consultations at w16 (waits 5/10/15, service 10 each), one at w17; ratings incl. a 差评 that is
    rectified on time."""
    visits = {f"w16-{i}": serve(client, clock, "w16", 5 * i, 10) for i in (1, 2, 3)}
    visits["w17-1"] = serve(client, clock, "w17", 2, 4)
    ok(client.post(f"{API}/evaluations", json=proven(client, {"visit_id": visits["w16-1"], "level": 5})))
    bad = ok(client.post(f"{API}/evaluations", json=proven(client, {"visit_id": visits["w16-2"], "level": 1})))
    ok(client.post(f"{API}/evaluations", json=proven(client, {"visit_id": visits["w17-1"], "level": 4})))
    case = bad["rectification_id"]
    ok(client.post(f"{API}/rectifications/{case}/callback", json={"note": "已电话回访，群众反映等候久"}))
    ok(client.post(f"{API}/rectifications/{case}/rectify", json={"measures": "增开窗口", "result": "已整改"}))
    return visits


def test_excel_export_matches_the_report(client: TestClient, seeded: dict[str, int]) -> None:
    report = ok(client.get(f"{API}/reports", params={"period": "month", "by": "window", "day": "2026-11-23"}))
    response = client.get(f"{API}/reports", params={"period": "month", "by": "window", "format": "xlsx"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="hallq-month-20261101.xlsx"' in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[:5] == ["按窗口", "按人员", "按事项", "按部门", "趋势"]
    assert "月考核2026-11" in book.sheetnames and "指标说明" in book.sheetnames
    sheet = book["按窗口"]
    assert book.active.title == "按窗口"
    # Title and period first, where a reader looks; then a blank row, the header and the table.
    assert sheet["A1"].value == "月报：2026-11-01 至 2026-11-30" and sheet["A1"].font.bold
    assert "百分比" in sheet["A2"].value and sheet["A3"].value is None
    assert [c.value for c in sheet[4]] == list(HEADERS.values())
    assert sheet.freeze_panes == "A5"
    for index, row in enumerate(report["rows"], start=5):
        cells = {key: sheet.cell(row=index, column=col).value for col, key in enumerate(HEADERS, start=1)}
        assert cells == row
    assert sheet.max_row == 4 + len(report["rows"])  # nothing trails the table
    w16 = {key: sheet.cell(row=5, column=col) for col, key in enumerate(HEADERS, start=1)}
    assert w16["name"].value == "16号窗口" and w16["visits"].value == 3
    assert w16["good_rate"].value == 0.5 and w16["good_rate"].number_format == "0.0%"
    assert w16["wait_mean_min"].value == 10.0 and w16["wait_mean_min"].number_format == "0.0"
    assert w16["rectified_on_time_rate"].value == 1.0
    trend = book["趋势"]
    assert trend["A1"].value.startswith("月报") and [c.value for c in trend[3]][:2] == ["时段", "办件量"]
    day23 = next(r for r in trend.iter_rows(min_row=4, values_only=True) if r[0] == "23日")
    assert day23[1] == 4
    day24 = next(r for r in trend.iter_rows(min_row=4, values_only=True) if r[0] == "24日")
    assert day24[1] is None  # tomorrow: not yet, so empty rather than 0


def test_monthly_assessment_sheet(client: TestClient, seeded: dict[str, int]) -> None:
    sheet = ok(client.get(f"{API}/reports/assessment", params={"month": "2026-11"}))
    assert sheet["month"] == "2026-11" and sheet["working_days"] == 21  # November 2026: no holidays
    rows = {r["staff_id"]: r for r in sheet["rows"]}
    s16 = rows["s16"]
    assert (s16["name"], s16["visits"], s16["consults"], s16["service_mean_min"]) == ("郭颖", 3, 3, 10.0)
    assert (s16["rated"], s16["bad"], s16["good_rate"]) == (2, 1, 0.5)
    assert (s16["rect_on_time"], s16["rect_late"], s16["rect_pending"]) == (1, 0, 0)
    assert s16["served_days"] == 1 and s16["first_call_avg"] == "09:05" and "16号窗口A" in s16["windows"]
    assert rows["s17"]["good_rate"] == 1.0 and rows["s01"]["visits"] == 0
    assert "m01" not in rows  # managers are not assessed here
    meanings = {c["key"]: c["meaning"] for c in sheet["columns"]}
    assert "非考勤打卡" in meanings["served_days"]
    xlsx = client.get(f"{API}/reports/assessment", params={"month": "2026-11", "format": "xlsx"})
    book = load_workbook(io.BytesIO(xlsx.content))
    ws = book["月考核2026-11"]
    assert ws["A1"].value == "南山区政务服务中心工作人员月考核表"
    assert ws["A2"].value.startswith("考核期间：2026年11月（2026-11-01 至 2026-11-30）")
    assert "尚未结束" in ws["A2"].value  # the clock stands on 2026-11-23: the month is not over
    header = [c.value for c in ws[6]]
    assert header[:4] == ["姓名", "所属部门", "窗口（A/B角）", "办件量"]
    s16_row = next(r for r in ws.iter_rows(min_row=7) if r[0].value == "郭颖")
    assert s16_row[header.index("办件量")].value == 3
    assert s16_row[header.index("好评率")].number_format == "0.0%"
    assert client.get(f"{API}/reports/assessment", params={"month": "2026-13"}).status_code == 400
    staff = login(client, "s01")
    assert client.get(f"{API}/reports/assessment", headers=staff).status_code == 403


def test_charts_are_svg_with_labels_and_one_bar_per_row(client: TestClient, seeded: dict[str, int]) -> None:
    out = ok(client.get(f"{API}/reports/charts", params={"period": "day", "by": "window", "day": "2026-11-23"}))
    assert out["bars"] == 2
    visits = ET.fromstring(out["visits"])
    assert visits.tag == f"{SVG}svg"
    texts = "".join(visits.itertext())
    assert "16号窗口" in texts and "17号窗口" in texts and "办件量" in texts
    assert len(visits.findall(f".//{SVG}rect[@class='bar']")) == 2
    times = ET.fromstring(out["times"])
    assert len(times.findall(f".//{SVG}rect[@class='bar']")) == 6  # three measures per window
    rate = ET.fromstring(out["good_rate"])
    assert "50.0%" in "".join(rate.itertext()) and "100.0%" in "".join(rate.itertext())
    trend = ET.fromstring(out["trend"])
    assert trend.findall(f".//{SVG}polyline") and "09时" in "".join(trend.itertext())
    by_staff = ok(client.get(f"{API}/reports/charts", params={"by": "staff", "day": "2026-11-23"}))
    assert "郭颖" in by_staff["visits"]


def test_bar_chart_escapes_and_counts() -> None:
    svg = charts.bar_chart(
        "测试<图>", ["甲&乙", "一个名字特别特别特别特别特别特别特别特别长的事项名称", "丙"], {"a": [3, 0, None]}, "件"
    )
    root = ET.fromstring(svg)  # well-formed despite < and &
    assert len(root.findall(f".//{SVG}rect[@class='bar']")) == 2  # None draws no bar
    assert "无数据" in "".join(root.itertext()) and "…" in "".join(root.itertext())
    assert charts.nice_max(87) == (100, 20) and charts.nice_max(0.93) == (1.0, 0.2)
    line = ET.fromstring(charts.line_chart("趋势", ["1日", "2日", "3日"], {"办件量": [1, None, 3]}))
    assert len(line.findall(f".//{SVG}polyline")) == 2  # the gap splits the line


def test_trend_slices(client: TestClient, seeded: dict[str, int]) -> None:
    from hallserver.services import reports

    hall = client.app.state.hall  # type: ignore[attr-defined]
    with hall.tx() as s:
        month = reports.trend(s, hall.ctx, "month", date(2026, 11, 5))
        quarter = reports.trend(s, hall.ctx, "quarter", date(2026, 11, 5))
        year = reports.trend(s, hall.ctx, "year", date(2026, 11, 5))
    assert len(month) == 30 and month[22].label == "23日" and month[22].visits == 4
    assert quarter[0].label == "10-01起" and sum(p.visits or 0 for p in quarter) == 4
    assert len(year) == 12 and year[10].visits == 4 and year[0].wait_mean_min is None


def test_one_visit_and_a_rectification_not_yet_due(client: TestClient, clock: ManualClock) -> None:
    """One visit: its p90 is its own time, not the top of its 30-second bucket; a rectification within its
    deadline is not counted as late (no rate yet), one past its deadline is; hours still ahead are not 0."""
    ok(client.post(f"{API}/tickets", json={"group": "consult"}))
    clock.advance(seconds=100)
    ok(client.post(f"{API}/windows/w17/call-next"))
    ok(client.post(f"{API}/windows/w17/start"))
    clock.advance(seconds=70)
    ok(client.post(f"{API}/windows/w17/finish", json={"outcome": "咨询"}))
    with Session(client.app.state.hall.engine) as s:  # type: ignore[attr-defined]
        visit_id = int(s.exec(select(func.max(Visit.id))).one() or 0)
    ok(client.post(f"{API}/evaluations", json=proven(client, {"visit_id": visit_id, "level": 1})))
    params = {"period": "day", "by": "window", "day": "2026-11-23"}
    (row,) = ok(client.get(f"{API}/reports", params=params))["rows"]
    assert (row["wait_mean_min"], row["wait_p90_min"]) == (1.7, 1.7)  # 100 s, not the bucket's 120 s
    assert (row["service_mean_min"], row["service_p90_min"]) == (1.2, 1.2)
    assert row["rectifications"] == 1 and row["rectified_on_time_rate"] is None  # due in 7 days: not late

    from hallserver.services import reports

    hall = client.app.state.hall  # type: ignore[attr-defined]
    with hall.tx() as s:
        day = reports.trend(s, hall.ctx, "day", date(2026, 11, 23))
    hours = {p.label: p.visits for p in day}
    assert hours["09时"] == 1 and hours["10时"] is None and hours["17时"] is None  # the future is not 0
    chart = ok(client.get(f"{API}/reports/charts", params=params))["trend"]
    assert len(ET.fromstring(chart).findall(f".//{SVG}circle")) == 1  # one point, at 09时: no line along 0

    clock.advance(days=10)  # the deadline passes with the rectification still open: it is late
    client.headers.update(login(client, "m01"))  # the 12-hour token has expired meanwhile
    (row,) = ok(client.get(f"{API}/reports", params=params))["rows"]
    assert row["rectified_on_time_rate"] == 0.0
