"""What a newcomer meets: the server's address leads to the console (in Chromium and over plain HTTP), and the
demo logins printed by `hallq run` exist in the demo hall only — never in another hall, even a copy of it."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from hallserver.demo_accounts import DEMO_ACCOUNTS, DEMO_HALL_DIR, DEMO_PASSWORD, banner_lines, ensure_demo_accounts
from tests.console.conftest import Console

API = "/api/v1"


def test_the_root_leads_to_the_console(console: Console) -> None:
    console.driver.get(console.hall.base_url + "/")
    console.find("#login-form")
    assert console.driver.current_url == console.hall.base_url + "/console/"
    plain = console.hall.http.get("/", follow_redirects=False)
    assert plain.status_code == 307 and plain.headers["location"] == "/console/"
    assert console.hall.http.head("/", follow_redirects=False).status_code == 307
    # The root is the console's; an unknown path still answers the API's 404 envelope.
    missing = console.hall.http.get("/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_demo_accounts_log_in_as_their_roles(hall_client: TestClient) -> None:
    hall = hall_client.app.state.hall  # type: ignore[attr-defined]
    made = ensure_demo_accounts(hall.engine, hall.ctx, DEMO_HALL_DIR)
    assert [a.username for a in made] == [a.username for a in DEMO_ACCOUNTS]
    for account in made:
        answer = hall_client.post(f"{API}/auth/login", json={"username": account.username, "password": DEMO_PASSWORD})
        assert answer.status_code == 200, answer.text
        me = hall_client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {answer.json()['token']}"})
        assert me.json()["role"] == account.role
    text = banner_lines("http://127.0.0.1:8000", made)
    assert "http://127.0.0.1:8000/console/" in text and DEMO_PASSWORD in text
    assert all(a.username in text for a in made)


def test_no_demo_account_outside_the_demo_hall(hall_client: TestClient, tmp_path: Path) -> None:
    hall = hall_client.app.state.hall  # type: ignore[attr-defined]
    copy = tmp_path / "real-hall"
    shutil.copytree(DEMO_HALL_DIR, copy)  # the same profile in a hall's own folder: a production hall
    assert ensure_demo_accounts(hall.engine, hall.ctx, copy) == ()
    refused = hall_client.post(f"{API}/auth/login", json={"username": "m01", "password": DEMO_PASSWORD})
    assert refused.status_code == 401
    assert "hallq user passwd" in banner_lines("http://127.0.0.1:8000", ())
    assert DEMO_PASSWORD not in banner_lines("http://127.0.0.1:8000", ())
