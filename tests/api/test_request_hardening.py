"""Bad input never gets a 5xx: integers past 64 bits, unknown routes and methods, unparsable and oversized
bodies all answer in the API's one error envelope with a Chinese message."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from starlette.types import Message, Receive, Scope, Send

from hallserver.api.limits import MAX_BODY_BYTES, BodySizeLimit
from hallserver.api.schemas import INT64_MAX, INT64_MIN
from hallserver.db import session_scope
from tests.conftest import login

API = "/api/v1"
HUGE = 2**63  # one past the largest signed 64-bit integer
HUGER = 10**30


def envelope(response: Any, status: int, code: str) -> dict[str, Any]:
    """The error body, checked to be exactly the documented shape."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "data"}, body
    assert body["error"]["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["error"]["message"]), body  # Chinese for people
    return dict(body["error"])


@pytest.fixture
def manager(hall_client: TestClient) -> dict[str, str]:
    return login(hall_client, "m01")


# --- 1. integers beyond 64 bits ---


@pytest.mark.parametrize("value", [HUGE, HUGER, -(2**63) - 1])
def test_huge_ticket_id_is_a_validation_error(hall_client: TestClient, manager: dict[str, str], value: int) -> None:
    body = envelope(hall_client.get(f"{API}/tickets/{value}", headers=manager), 422, "invalid")
    assert body["data"]["fields"] == ["path.ticket_id"] or "ticket_id" in body["message"]


def test_the_largest_64_bit_id_is_still_looked_up(hall_client: TestClient, manager: dict[str, str]) -> None:
    envelope(hall_client.get(f"{API}/tickets/{INT64_MAX}", headers=manager), 404, "not_found")


def test_huge_integers_in_bodies_and_queries(hall_client: TestClient, manager: dict[str, str]) -> None:
    envelope(hall_client.post(f"{API}/evaluations", json={"visit_id": HUGE, "level": 5}), 422, "invalid")
    envelope(
        hall_client.post(f"{API}/evaluations", json={"ticket": "A001", "level": 5, "indicators": {"attitude": HUGER}}),
        422,
        "invalid",
    )
    envelope(hall_client.post(f"{API}/rectifications/{HUGE}/followup", json={"level": 5}), 422, "invalid")
    envelope(hall_client.get(f"{API}/evaluations", params={"visit_id": HUGE}, headers=manager), 422, "invalid")
    for step, body in (("callback", {"note": "已回访"}), ("close", {"note": "已办结"})):
        envelope(hall_client.post(f"{API}/rectifications/{HUGE}/{step}", json=body, headers=manager), 422, "invalid")
    envelope(
        hall_client.post(f"{API}/windows/w05/resume-ticket", json={"ticket_id": HUGE}, headers=manager), 422, "invalid"
    )
    envelope(hall_client.post(f"{API}/windows/w05/reprint", json={"visit_id": HUGE}, headers=manager), 422, "invalid")
    envelope(
        hall_client.post(f"{API}/people/{HUGE}/identity", json={"purpose": "核对身份"}, headers=manager), 422, "invalid"
    )
    envelope(hall_client.post(f"{API}/assist-requests/{HUGE}/ack", headers=manager), 422, "invalid")
    for action in ("cancel", "rejoin"):
        envelope(hall_client.post(f"{API}/tickets/{HUGE}/{action}", headers=manager), 422, "invalid")


def test_every_integer_the_api_takes_is_bounded_to_64_bits(hall_client: TestClient) -> None:
    """The OpenAPI document states the bounds of every integer parameter and request-body field."""
    spec = hall_client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    unbounded: list[str] = []
    seen: set[str] = set()

    def walk(schema: Any, where: str) -> None:
        if isinstance(schema, dict):
            ref = schema.get("$ref")
            if ref:
                name = ref.rsplit("/", 1)[-1]
                if name not in seen:
                    seen.add(name)
                    walk(schemas[name], name)
                return
            if schema.get("type") == "integer":
                # Bounds come as JSON numbers, possibly floats: compare them exactly as integers.
                low = int(schema.get("minimum", int(schema.get("exclusiveMinimum", INT64_MIN - 2)) + 1))
                high = int(schema.get("maximum", int(schema.get("exclusiveMaximum", INT64_MAX + 2)) - 1))
                if not INT64_MIN <= low <= high <= INT64_MAX:
                    unbounded.append(f"{where}: [{low}, {high}]")
            for key, value in schema.items():
                walk(value, f"{where}.{key}")
        elif isinstance(schema, list):
            for i, value in enumerate(schema):
                walk(value, f"{where}[{i}]")

    operations = 0
    for path, item in spec["paths"].items():
        for method, op in item.items():
            operations += 1
            for param in op.get("parameters", []):
                walk(param["schema"], f"{method.upper()} {path} {param['name']}")
            for media in op.get("requestBody", {}).get("content", {}).values():
                walk(media["schema"], f"{method.upper()} {path} body")
    assert operations > 50 and "ResumeTicketIn" in seen and "EvaluationIn" in seen
    assert unbounded == []


def test_an_overflow_anywhere_is_bad_input_not_a_server_error(hall_client: TestClient) -> None:
    """The safety net: a real OverflowError from the SQLite driver, in a route without bounds."""
    hall = hall_client.app.state.hall  # type: ignore[attr-defined]

    def unbounded(n: int) -> dict[str, int]:
        with session_scope(hall.engine) as s:
            s.connection().execute(text("SELECT id FROM ticket WHERE id = :n"), {"n": n}).all()
        return {"n": n}

    hall_client.app.add_api_route(f"{API}/test-unbounded/{{n}}", unbounded)  # type: ignore[attr-defined]
    assert hall_client.get(f"{API}/test-unbounded/7").json() == {"n": 7}
    body = envelope(hall_client.get(f"{API}/test-unbounded/{HUGE}"), 422, "invalid")
    assert "超出范围" in body["message"]


# --- 2. one envelope for every error ---


def test_unknown_route_answers_in_the_envelope(hall_client: TestClient) -> None:
    body = envelope(hall_client.get(f"{API}/no-such-thing"), 404, "not_found")
    assert body["message"] == "请求的地址不存在"


def test_wrong_method_answers_in_the_envelope(hall_client: TestClient) -> None:
    response = hall_client.delete(f"{API}/hall")
    body = envelope(response, 405, "method_not_allowed")
    assert "DELETE" in body["message"] and body["data"]["allowed"] == ["GET"]
    assert response.headers["allow"] == "GET"


def test_unparsable_body_answers_in_the_envelope(hall_client: TestClient) -> None:
    not_utf8 = hall_client.post(
        f"{API}/evaluations",
        content=b'{"level": 5, "comment": "\xff\xfe"}',
        headers={"Content-Type": "application/json"},
    )
    assert envelope(not_utf8, 400, "invalid")["message"] == "请求格式不正确，无法解析"  # Starlette's own 400
    broken = hall_client.post(
        f"{API}/evaluations", content=b'{"level": 5', headers={"Content-Type": "application/json"}
    )
    assert envelope(broken, 422, "invalid")["message"] == "请求参数不正确：请求内容不是有效的JSON"
    not_an_object = hall_client.post(f"{API}/evaluations", json=[1, 2])
    body = envelope(not_an_object, 422, "invalid")
    assert body["message"] == "请求参数不正确：请求内容应为JSON对象" and body["data"]["fields"] == []


def test_validation_error_keeps_its_fields(hall_client: TestClient) -> None:
    body = envelope(hall_client.post(f"{API}/evaluations", json={"level": 9}), 422, "invalid")
    assert body["data"]["fields"] == ["level"]


# --- 3. request-body size limit ---


def _oversized() -> bytes:
    return b'{"level": 5, "comment": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}'


def test_a_body_over_the_limit_with_content_length_is_refused(hall_client: TestClient) -> None:
    body = envelope(
        hall_client.post(f"{API}/evaluations", content=_oversized(), headers={"Content-Type": "application/json"}),
        413,
        "too_large",
    )
    assert body["data"]["max_bytes"] == MAX_BODY_BYTES


def test_a_chunked_body_over_the_limit_without_content_length_is_refused(hall_client: TestClient) -> None:
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:
        payload = _oversized()
        for start in range(0, len(payload), 64 * 1024):
            sent.append(start)
            yield payload[start : start + 64 * 1024]

    response = hall_client.post(f"{API}/evaluations", content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in {k.lower() for k in response.request.headers}
    envelope(response, 413, "too_large")
    assert len(sent) > 1  # it really arrived in pieces


def test_a_body_under_the_limit_is_parsed(hall_client: TestClient) -> None:
    padded = b'{"level": 5, "padding": "' + b"x" * (MAX_BODY_BYTES - 100) + b'"}'
    body = envelope(
        hall_client.post(f"{API}/evaluations", content=padded, headers={"Content-Type": "application/json"}),
        422,
        "invalid",
    )
    assert "padding" in body["data"]["fields"]


def test_the_limit_counts_bytes_as_they_arrive() -> None:
    """Pure ASGI: an endless chunked upload is cut off at the limit; the app never sees the rest."""
    limit, chunk = 10_000, 1_000
    pulled = 0
    seen_by_app: list[int] = []
    sent: list[Message] = []

    async def endless_receive() -> Message:
        nonlocal pulled
        pulled += 1
        assert pulled < 1000, "the middleware kept reading past its limit"
        return {"type": "http.request", "body": b"x" * chunk, "more_body": True}

    async def send(message: Message) -> None:
        sent.append(message)

    async def reads_everything(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ConnectionError("client went away")
            seen_by_app.append(len(message["body"]))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"read it all"})

    scope: Scope = {"type": "http", "method": "POST", "path": "/", "headers": [(b"transfer-encoding", b"chunked")]}
    asyncio.run(BodySizeLimit(reads_everything, max_bytes=limit)(scope, endless_receive, send))
    assert sum(seen_by_app) <= limit and pulled == limit // chunk + 1
    assert sent[0]["status"] == 413 and b"too_large" in sent[1]["body"]
    assert all(m.get("body") != b"read it all" for m in sent)
