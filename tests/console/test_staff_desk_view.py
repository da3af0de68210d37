"""The staff console's desk as staff read it, in headless Chromium: how many wait in each queue the window
serves (and in all), kept current while the page stays open; the day's cases table inside its card even
with 33-character serial numbers; a disabled 办结 that does not look like the primary button it becomes."""

from __future__ import annotations

from tests.console.conftest import Console, LiveHall
from tests.console.test_staff_console import ITEM, issue

API = "/api/v1"
PRIMARY_BLUE = "rgb(31, 95, 191)"  # --primary in console.css


def accept_one(live_hall: LiveHall, seed: int) -> None:
    """A 居住证申领 ticket called, served and accepted (受理: a case with its serial number) at w05."""
    http, staff = live_hall.http, live_hall.headers("s05")
    issue(live_hall, seed)
    for action in ("call-next", "start"):
        assert http.post(f"{API}/windows/w05/{action}", headers=staff).status_code == 200
    done = http.post(f"{API}/windows/w05/finish", json={"outcome": "受理", "item_code": ITEM}, headers=staff)
    assert done.status_code == 200, done.text


def style(console: Console, css: str, prop: str) -> str:
    return str(console.driver.execute_script(f"return getComputedStyle(document.querySelector('{css}'))['{prop}']"))


def test_waiting_counts_cases_table_and_disabled_finish(console: Console, live_hall: LiveHall) -> None:
    for seed in (11, 12):
        accept_one(live_hall, seed)
    issue(live_hall, 13)
    issue(live_hall, 14)

    console.login("s05", then="/console/staff")
    console.ready()
    console.wait_text("#queue-waiting", "2 人")
    chip = console.find("#window-groups .queue-chip[data-group='police']")
    assert chip.text == "公安服务 2人等候"

    issue(live_hall, 15)  # taken at the kiosk while the page is open: the page catches up by itself
    console.wait_text("#window-groups .queue-chip[data-group='police']", "3人等候")
    console.wait_text("#queue-waiting", "3 人")

    # Nothing is being served: 办结 is disabled and must not look like the blue primary 叫号 next to it.
    assert console.find("#btn-finish").get_attribute("disabled") is not None
    assert style(console, "#btn-call", "backgroundColor") == PRIMARY_BLUE
    assert style(console, "#btn-finish", "backgroundColor") != PRIMARY_BLUE
    assert style(console, "#btn-finish", "color") != "rgb(255, 255, 255)"

    # The day's cases: two rows with serial numbers, all inside the card.
    console.wait_text("#visit-table", "受理")
    assert len(console.all("#visit-table tr")) == 3
    fits = console.driver.execute_script(
        "const box = document.getElementById('visits'), panel = box.closest('.panel');"
        "const table = document.getElementById('visit-table').getBoundingClientRect();"
        "const card = panel.getBoundingClientRect();"
        "return {scroll: box.scrollWidth, client: box.clientWidth, right: table.right, cardRight: card.right};"
    )
    assert fits["scroll"] <= fits["client"], fits
    assert fits["right"] <= fits["cardRight"], fits
    console.screenshot("staff-desk-counts")
