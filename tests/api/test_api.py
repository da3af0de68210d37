"""The REST API end to end through the app factory: catalog with ETag, tickets, windows, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hallcore.clock import ManualClock
from hallserver.app import NotMigrated, create_app
from tests.conftest import hall_settings, local, login
from tests.integration.helpers import id_number

API = "/api/v1"


@pytest.fixture
def client(backend_client: TestClient) -> TestClient:
    backend_client.headers.update(login(backend_client, "m01"))  # a hall manager unless a test says otherwise
    return backend_client


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()["error"]
    assert body["code"] == code
    return body


def test_openapi_docs_are_served(client: TestClient) -> None:
    spec = ok(client.get("/openapi.json"))
    assert f"{API}/tickets" in spec["paths"] and f"{API}/windows/{{window_id}}/call-next" in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_catalog_etag_and_not_modified(client: TestClient) -> None:
    first = client.get(f"{API}/catalog")
    etag = first.headers["etag"]
    body = first.json()
    assert len(body["items"]) >= 40 and etag == f'"{body["version"]}"'
    again = client.get(f"{API}/catalog", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert client.get(f"{API}/catalog", headers={"If-None-Match": '"stale"'}).status_code == 200


def test_search_guide_and_domains(client: TestClient) -> None:
    hits = ok(client.get(f"{API}/catalog/search", params={"q": "jzz"}))
    assert hits[0]["name"] == "居住证申领"
    guide = ok(client.get(f"{API}/catalog/items/{hits[0]['code']}"))
    assert guide["group"] == "police" and guide["materials"] and guide["legal_basis"]
    domains = ok(client.get(f"{API}/catalog/domains"))
    assert {d["code"]: d["group"] for d in domains}["real_estate"] == "property"
    error(client.get(f"{API}/catalog/items/NOSUCH"), 404, "not_found")
    error(client.get(f"{API}/catalog/search", params={"q": "x", "domain": "nosuch"}), 404, "not_found")


def test_issue_call_serve_through_the_api(client: TestClient) -> None:
    code = ok(client.get(f"{API}/catalog/search", params={"q": "huzhao"}))[0]["code"]
    issued = ok(
        client.post(
            f"{API}/tickets",
            json={
                "item_code": code,
                "identity": {"id_number": id_number(1), "name": "张小三", "method": "id_card"},
            },
        ),
        201,
    )
    assert issued["ticket"] == "A001" and issued["masked_name"] == "张*三"  # the bus's ticket.issue reply
    assert issued["item_name"] == "普通护照签发" and issued["issued_at"].endswith("+08:00")
    assert issued["waiting_ahead"] == 0 and issued["group_name"] == "公安服务"
    assert id_number(1) not in str(issued)

    called = ok(client.post(f"{API}/windows/w05/call-next"))
    assert called["ticket"]["number"] == "A001" and called["message"] == "请A001号到5号窗口办理"
    assert called["window"]["serving"] == "A001"
    ok(client.post(f"{API}/windows/w05/recall"))
    ok(client.post(f"{API}/windows/w05/start"))
    done = ok(client.post(f"{API}/windows/w05/finish", json={"outcome": "受理"}))
    assert done["ticket"]["state"] == "done" and done["ticket"]["outcome"] == "受理"
    assert done["window"]["serving"] is None
    assert ok(client.post(f"{API}/windows/w05/call-next"))["ticket"] is None
    assert ok(client.get(f"{API}/tickets", params={"number": "A001"}))["state_label"] == "已办结"


def test_errors_carry_a_code_and_chinese_message(client: TestClient) -> None:
    body = error(client.post(f"{API}/tickets", json={"group": "police"}), 400, "identity_required")
    assert "实名" in body["message"]
    body = error(
        client.post(
            f"{API}/tickets",
            json={"group": "police", "identity": {"method": "id_card", "id_number": "440305199001011231"}},
        ),
        400,
        "invalid",
    )
    assert "校验位" in body["message"]
    body = error(client.post(f"{API}/tickets", json={"group": "consult", "colour": "red"}), 422, "invalid")
    assert body["message"].startswith("请求参数不正确") and "colour" in body["data"]["fields"]
    error(client.post(f"{API}/windows/w05/start"), 409, "no_ticket")
    error(client.post(f"{API}/windows/w99/call-next"), 404, "not_found")
    error(client.get(f"{API}/tickets/99999"), 404, "not_found")
    error(client.post(f"{API}/windows/w05/finish", json={"outcome": "随便"}), 422, "invalid")


def test_refused_transition_over_http(client: TestClient) -> None:
    ticket_id = ok(client.post(f"{API}/tickets", json={"group": "consult"}), 201)["ticket_id"]
    ok(client.post(f"{API}/tickets/{ticket_id}/cancel", json={"reason": "不办了"}))
    body = error(client.post(f"{API}/tickets/{ticket_id}/cancel"), 409, "invalid_transition")
    assert body["message"] == "G001号当前已取消，不能取消"
    body = error(client.post(f"{API}/tickets/{ticket_id}/rejoin"), 409, "invalid_transition")


def test_closed_hall(client: TestClient, clock: ManualClock) -> None:
    clock.set(local(2026, 11, 22, 10, 0))  # Sunday
    body = error(client.post(f"{API}/tickets", json={"group": "consult"}), 400, "closed")
    assert body["data"]["reopens_at"] == "2026-11-23T09:00:00+08:00"
    status = ok(client.get(f"{API}/calendar"))
    assert status["is_open"] is False and status["day_kind"] == "休息日"
    holiday = ok(client.get(f"{API}/calendar", params={"at": "2026-10-02T10:00:00+08:00"}))
    assert holiday["holiday"] == "国庆节" and holiday["next_opening"] == "2026-10-08T09:00:00+08:00"


def test_manager_reallocates_and_the_next_call_obeys(client: TestClient) -> None:
    ok(client.post(f"{API}/tickets", json={"group": "consult"}), 201)
    ok(
        client.post(
            f"{API}/tickets", json={"group": "police", "identity": {"method": "id_card", "id_number": id_number(2)}}
        ),
        201,
    )
    window = ok(client.put(f"{API}/windows/w14/groups", json={"groups": ["consult"]}))
    assert window["groups"] == ["consult"]
    assert ok(client.post(f"{API}/windows/w14/call-next"))["ticket"]["number"] == "G001"
    paused = ok(client.post(f"{API}/windows/w05/pause", json={"reason": "系统维护"}))["window"]
    assert (paused["status"], paused["status_reason"]) == ("paused", "系统维护")
    error(client.post(f"{API}/windows/w05/call-next"), 409, "window_not_open")
    ok(client.post(f"{API}/windows/w05/resume"))
    assert ok(client.put(f"{API}/windows/w05/staff", json={"role": "B"}))["staff_role"] == "B"
    queue = {g["group"]: g for g in ok(client.get(f"{API}/queue"))}
    assert queue["police"]["waiting"] == 1 and queue["consult"]["waiting"] == 0


def test_hall_info(client: TestClient) -> None:
    hall = ok(client.get(f"{API}/hall"))
    assert hall["name"] == "南山区政务服务中心" and hall["is_open"] is True
    assert len(hall["groups"]) >= 6 and hall["catalog_version"]
    assert len(ok(client.get(f"{API}/windows"))) == 20


def test_server_refuses_an_unmigrated_database(tmp_path: Path, clock: ManualClock) -> None:
    settings = hall_settings(f"sqlite:///{tmp_path}/empty.db", tmp_path)
    with pytest.raises(NotMigrated, match="hallq db upgrade"):
        create_app(settings, clock)
