"""The floor page's 市级平台同步 card in headless Chromium: managers see the link state and what waits for the
city (here a hall with no city link, which records nothing for a city); a chief does not see the card."""

from __future__ import annotations

from tests.console.conftest import Console
from tests.integration.helpers import id_number
from tests.sync.helpers import ITEM, NAME

API = "/api/v1"


def _serve(console: Console) -> None:
    http, staff = console.hall.http, console.hall.headers("s05")
    ident = {"method": "id_card", "id_number": id_number(41), "name": NAME}
    assert http.post(f"{API}/tickets", json={"item_code": ITEM, "identity": ident}, headers=staff).status_code == 201
    for step in ("call-next", "start"):
        assert http.post(f"{API}/windows/w05/{step}", headers=staff).status_code == 200
    assert http.post(f"{API}/windows/w05/finish", headers=staff, json={"outcome": "受理"}).status_code == 200


def test_managers_see_the_city_link_card(console: Console) -> None:
    _serve(console)
    console.login("m01", then="/console/floor")
    console.ready()
    console.wait_text("#city-link-state", "未接入市级平台")
    assert console.wait_text("#city-link-backlog", "0 条")
    text = console.text("#city-link-panel")
    assert "市级平台同步" in text and "最早未确认" not in text
    assert NAME not in text and id_number(41) not in text and "null" not in text
    console.screenshot("floor-city-link")


def test_a_chief_does_not_see_the_card(console: Console) -> None:
    console.login("s05", then="/console/floor")
    console.ready()
    assert not [e for e in console.all("#city-link-panel") if e.is_displayed()]
