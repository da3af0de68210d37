"""The city API with its login: 401 without a token, the live state, alerts, reports and overdue lists from
what the ingest stored, the registry only for admins, and no personal data in any answer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from city.api import create_city_app
from city.auth import set_user
from city.rollups import refresh_all
from city.settings import CitySettings
from city.store import Store
from hallcore.clock import ManualClock
from tests.city.conftest import NOW, case, evaluation, health, message, queue_snapshot, rectification, visit

PASSWORD = "City-test-2026"


def seed(store: Store, engine: Engine) -> None:
    """Records from two halls: queues, devices, visits, ratings, an overdue case and rectification."""
    msgs = [
        message("0001", 1, queue_snapshot(waiting=12, longest=41, open_windows=6)),
        message("0001", 2, health(offline=2)),
        *(message("0001", 2 + n, visit(n, wait_min=n)) for n in range(1, 11)),
        message("0001", 13, evaluation(1, level_gb=5)),
        message("0001", 14, case("1101000000000000000000002026111800010001", promised=date(2026, 11, 20))),
        message("0001", 15, rectification(7, deadline=date(2026, 11, 19))),
        message("0002", 1, queue_snapshot(waiting=3, longest=5, open_windows=2)),
        message("0002", 3, visit(1)),  # seq 2 missing: a hole
    ]
    assert store.ingest(msgs).rejected == 0
    refresh_all(engine)


@pytest.fixture
def client(city_url: str, city_engine: Engine, city_clock: ManualClock) -> Iterator[TestClient]:
    """The city app in-process, with an admin and a viewer account."""
    set_user(city_engine, "admin", PASSWORD, "admin", "市数据局管理员", NOW)
    set_user(city_engine, "viewer", PASSWORD, "viewer", "区监管员", NOW)
    app = create_city_app(CitySettings(database_url=city_url, silent_after_min=10), clock=city_clock)
    with TestClient(app) as http:
        yield http


def login(client: TestClient, username: str) -> dict[str, str]:
    reply = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['token']}"}


def test_every_route_needs_a_login(client: TestClient) -> None:
    for path in (
        "/api/v1/halls",
        "/api/v1/alerts",
        "/api/v1/overdue",
        "/api/v1/reports?month=2026-11",
        "/api/v1/registry",
    ):
        reply = client.get(path)
        assert reply.status_code == 401, path
        assert reply.json()["error"]["message"] == "请先登录"
    bad = client.get("/api/v1/halls", headers={"Authorization": "Bearer forged"})
    assert bad.status_code == 401 and "重新登录" in bad.json()["error"]["message"]
    wrong = client.post("/api/v1/auth/login", json={"username": "admin", "password": "nope-1234"})
    assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "用户名或密码错误"


def test_live_state_alerts_and_overdue(
    client: TestClient, store: Store, city_engine: Engine, city_clock: ManualClock
) -> None:
    seed(store, city_engine)
    headers = login(client, "viewer")
    halls = {h["code"]: h for h in client.get("/api/v1/halls", headers=headers).json()["halls"]}
    assert set(halls) == {"0001", "0002", "0003"}
    assert (halls["0001"]["waiting"], halls["0001"]["open_windows"], halls["0001"]["devices_offline"]) == (12, 6, 2)
    assert (halls["0002"]["upto"], halls["0002"]["received_max"], halls["0002"]["backlog"]) == (1, 3, 2)
    assert halls["0003"]["silent_min"] is None
    city_clock.advance(minutes=15)  # nobody speaks for a quarter of an hour
    alerts = client.get("/api/v1/alerts", headers=headers).json()["alerts"]
    kinds = {(a["hall"], a["kind"]) for a in alerts}
    assert {("0001", "silent"), ("0002", "silent"), ("0003", "silent")} <= kinds
    assert {
        ("0001", "devices"),
        ("0001", "long_wait"),
        ("0001", "overdue_cases"),
        ("0001", "overdue_rectifications"),
    } <= kinds
    assert ("0002", "long_wait") not in kinds
    items = client.get("/api/v1/overdue", headers=headers).json()["items"]
    assert [(i["kind"], i["hall"], i["days_late"]) for i in items] == [
        ("rectification", "0001", 4),
        ("case", "0001", 3),
    ]
    assert "a" * 64 not in client.get("/api/v1/overdue", headers=headers).text, "no identity hash on the screen"


def test_reports_by_level_and_hall(client: TestClient, store: Store, city_engine: Engine) -> None:
    seed(store, city_engine)
    headers = login(client, "viewer")
    rows = client.get("/api/v1/reports?month=2026-11&by=level", headers=headers).json()["rows"]
    assert [(r["key"], r["visits"]) for r in rows] == [("区", 10), ("街道", 1)]
    assert rows[0]["good_rate"] == 0.0 and rows[0]["bad"] == 1
    halls = client.get("/api/v1/reports?month=2026-11&by=hall&level=区", headers=headers).json()["rows"]
    assert [(r["key"], r["label"]) for r in halls] == [("0001", "南山区政务服务中心")]
    bad = client.get("/api/v1/reports?month=2026-11&by=hall&level=省", headers=headers)
    assert bad.status_code == 422 and "层级" in bad.json()["error"]["message"]
    assert client.get("/api/v1/reports?month=11-2026", headers=headers).status_code == 422


def test_only_admins_register_halls(client: TestClient) -> None:
    body = {"name": "西丽街道便民服务中心", "level": "街道（乡镇）", "region_code": "440305", "hall_id": "xili"}
    assert client.post("/api/v1/registry", json=body, headers=login(client, "viewer")).status_code == 403
    admin = login(client, "admin")
    made = client.post("/api/v1/registry", json=body, headers=admin)
    assert made.status_code == 201, made.text
    assert (made.json()["code"], made.json()["level"], made.json()["bridge_account"]) == ("0004", "街道", "bridge-0004")
    again = client.post("/api/v1/registry", json=body, headers=admin)
    assert again.json()["code"] == "0004", "registering the same hall again keeps its code"
    assert client.get("/api/v1/rejected", headers=login(client, "viewer")).status_code == 403
    assert client.get("/api/v1/rejected", headers=admin).json() == {"items": []}
    refused = client.post("/api/v1/registry", json={**body, "hall_id": "p1", "level": "省级"}, headers=admin)
    assert refused.status_code == 422 and "四级" in refused.json()["error"]["message"]


def test_logout_revokes_the_token(client: TestClient, city_clock: ManualClock) -> None:
    headers = login(client, "viewer")
    assert client.get("/api/v1/auth/me", headers=headers).json()["role"] == "viewer"
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 200
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    later = login(client, "viewer")
    city_clock.advance(hours=13)
    assert client.get("/api/v1/auth/me", headers=later).status_code == 401, "a session lasts 12 hours"
