"""The evaluation desk in headless Chromium: a 差评 submitted with the rating code opens a
rectification; a manager works it through callback and measures, is refused closing before the citizen's
follow-up (the server's message is shown), and closes it after; an overdue case is highlighted. The
rater's identity never reaches the page."""

from __future__ import annotations

from typing import Any

from selenium.webdriver.common.by import By

from tests.console.conftest import Console, LiveHall
from tests.integration.helpers import id_number
from tests.rating_proofs import followup_code, rating_code

API = "/api/v1"
ITEM = "11440300MB2D41730K000172102000000"  # 居住证申领
RATER = id_number(41)
RATER_NAME = "赵评价"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def bad_rating(hall: LiveHall, seed: int, comment: str) -> int:
    """Serve a visit at w05 and rate it 非常不满意 with its rating code; returns the rectification id."""
    http, staff = hall.http, hall.headers("s05")
    ok(
        http.post(
            f"{API}/tickets",
            json={
                "item_code": ITEM,
                "identity": {"method": "id_card", "id_number": id_number(seed), "name": RATER_NAME},
            },
        ),
        201,
    )
    ok(http.post(f"{API}/windows/w05/call-next", headers=staff))
    ok(http.post(f"{API}/windows/w05/start", headers=staff))
    done = ok(http.post(f"{API}/windows/w05/finish", headers=staff, json={"outcome": "咨询"}))
    visit = ok(http.get(f"{API}/visits", params={"window_id": "w05"}, headers=staff))[-1]
    assert visit["ticket"] == done["ticket"]["number"]
    rated = ok(
        http.post(
            f"{API}/evaluations",
            json={
                "visit_id": visit["id"],
                "level": 1,
                "indicators": {"attitude": 1},
                "comment": comment,
                "channel": "qr",
                "identity": {"method": "id_card", "id_number": RATER},  # the rater, proven by the code
                "code": rating_code(http, visit["id"]),
            },
        ),
        201,
    )
    assert rated["is_bad"] is True
    return int(rated["rectification_id"])


def submit(console: Console, form: str, **fields: str) -> None:
    for name, value in fields.items():
        box = console.find(f"#form-{form} textarea[name={name}]")
        box.clear()
        box.send_keys(value)
    console.find(f"#submit-{form}").click()


def test_a_bad_rating_is_worked_to_closed(console: Console, live_hall: LiveHall) -> None:
    case = bad_rating(live_hall, 1, "窗口人员态度冷淡")
    console.login("m01", then="/console/desk")
    console.ready()
    console.wait_text("#ledger-table", f"#{case}")
    console.find(f"#ledger-table tr[data-id='{case}']").click()
    console.wait_text("#bad-rating", "非常不满意")
    assert "窗口人员态度冷淡" in console.text("#bad-rating")
    console.screenshot("desk-open")

    submit(console, "callback", note="已电话回访群众，当面致歉")
    console.wait_text("#case-detail", "已回访")
    submit(console, "rectify", measures="对窗口人员进行服务礼仪培训", result="群众表示理解")
    console.wait_text("#case-detail", "等待群众")
    submit(console, "close", close_note="整改完成")  # before the citizen's follow-up: refused
    refused = console.wait_text("#step-error-3", "已确认")
    assert "已整改" in refused
    console.screenshot("desk-refused")

    followup = {"level": 5, "channel": "sms", "code": followup_code(live_hall.http, case)}
    ok(live_hall.http.post(f"{API}/rectifications/{case}/followup", json=followup), 201)
    console.driver.refresh()
    console.find("#desk-tabs .tab[data-tab='all']").click()
    console.find(f"#ledger-table tr[data-id='{case}']").click()
    console.wait_text("#followup", "非常满意")
    submit(console, "close", close_note="群众满意，整改办结")
    console.wait_text("#case-detail", "已办结")
    console.find("#desk-tabs .tab[data-tab='closed']").click()
    console.wait_text("#ledger-table", f"#{case}")
    console.screenshot("desk-closed")
    page = console.driver.page_source
    assert RATER not in page and RATER_NAME not in page and "rater" not in page


def test_overdue_cases_are_highlighted(console: Console, live_hall: LiveHall) -> None:
    case = bad_rating(live_hall, 2, "等候时间太长")
    live_hall.bus.clock.advance(days=12)  # past the 7-day deadline (the login is a new day's too)
    console.login("m01", then="/console/desk")
    console.ready()
    console.find("#desk-tabs .tab[data-tab='overdue']").click()
    row = console.find(f"#ledger-table tr[data-id='{case}']")
    assert "overdue" in (row.get_attribute("class") or "") and "已超期" in row.text
    console.wait_text("#toasts", "已超期")
    console.screenshot("desk-overdue")
    assert RATER not in console.driver.page_source
    assert console.driver.find_elements(By.CSS_SELECTOR, ".stat-bad .stat-value")[0].text == "1"
