"""Login, roles and window ownership over HTTP: staff act only on their own windows."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from hallcore.clock import ManualClock
from hallserver.db import session_scope
from hallserver.models import AuthToken
from hallserver.services import auth
from tests.conftest import TEST_PASSWORD, login

API = "/api/v1"


@pytest.fixture
def client(hall_client: TestClient) -> TestClient:
    """The demo hall with no login: each test logs in whom it needs."""
    return hall_client


def test_actions_need_a_login(client: TestClient) -> None:
    response = client.post(f"{API}/windows/w05/call-next")
    assert response.status_code == 401
    assert response.json()["error"] == {"code": "unauthorized", "message": "请先登录", "data": {}}
    bad = client.post(f"{API}/windows/w05/call-next", headers={"Authorization": "Bearer nonsense"})
    assert bad.status_code == 401 and "重新登录" in bad.json()["error"]["message"]
    assert client.get(f"{API}/windows/w05").status_code == 200  # displays read without logging in


def test_wrong_password_and_weak_passwords(client: TestClient) -> None:
    login(client, "s05")
    wrong = client.post(f"{API}/auth/login", json={"username": "s05", "password": "nope-1234"})
    assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "用户名或密码错误"
    hall = client.app.state.hall  # type: ignore[attr-defined]
    with pytest.raises(auth.HallError, match="至少8位"), session_scope(hall.engine) as s:
        auth.set_password(s, hall.ctx, "s05", "12345678")


def test_window_staff_act_only_on_their_own_windows(client: TestClient) -> None:
    staff = login(client, "s06")  # A of w06
    me = client.get(f"{API}/auth/me", headers=staff).json()
    assert me["role"] == "staff" and "w06" in me["windows"] and me["all_windows"] is False
    assert client.post(f"{API}/windows/w06/call-next", headers=staff).status_code == 200
    refused = client.post(f"{API}/windows/w07/call-next", headers=staff)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert "w07" in refused.json()["error"]["message"]
    manager_only = client.put(f"{API}/windows/w06/groups", json={"groups": ["consult"]}, headers=staff)
    assert manager_only.status_code == 403


def test_chief_acts_on_the_departments_windows(client: TestClient) -> None:
    chief = login(client, "s05")  # 首席代表 of 市公安局
    me = client.get(f"{API}/auth/me", headers=chief).json()
    assert me["role"] == "chief" and {"w05", "w06"} <= set(me["windows"])
    assert client.post(f"{API}/windows/w06/pause", headers=chief).status_code == 200
    assert client.post(f"{API}/windows/w12/pause", headers=chief).status_code == 403


def test_manager_does_everything(client: TestClient) -> None:
    manager = login(client, "m01")
    assert client.put(f"{API}/windows/w12/groups", json={"groups": ["consult"]}, headers=manager).status_code == 200
    assert client.post(f"{API}/windows/w01/pause", headers=manager).status_code == 200


def test_device_token_is_bound_to_its_window(client: TestClient) -> None:
    hall = client.app.state.hall  # type: ignore[attr-defined]
    with session_scope(hall.engine) as s:
        token = auth.device_token(s, hall.ctx, hall.devices, "caller-w03")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post(f"{API}/windows/w03/call-next", headers=headers).status_code == 200
    assert client.post(f"{API}/windows/w04/call-next", headers=headers).status_code == 403
    with session_scope(hall.engine) as s:
        stored = s.exec(select(AuthToken).where(AuthToken.username == "caller-w03")).one()
        assert stored.token_hash != token and token not in stored.token_hash  # only the hash is kept


def test_logout_and_expiry(client: TestClient, clock: ManualClock) -> None:
    headers = login(client, "m01")
    assert client.post(f"{API}/auth/logout", headers=headers).status_code == 200
    assert client.get(f"{API}/auth/me", headers=headers).status_code == 401
    again = client.post(f"{API}/auth/login", json={"username": "m01", "password": TEST_PASSWORD}).json()
    fresh = {"Authorization": f"Bearer {again['token']}"}
    assert client.get(f"{API}/auth/me", headers=fresh).status_code == 200
    clock.advance(hours=auth.SESSION_HOURS, minutes=1)
    assert client.get(f"{API}/auth/me", headers=fresh).status_code == 401
