"""Tickets are looked up by id only with a login; citizens use the unguessable token of their slip's QR code,
which the slip, the ticket.issue bus reply and the kiosk screen all carry (never the sequential id)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from broker.messages import TicketIssue
from hallserver.db import downgrade, session_scope, upgrade
from hallserver.events import PrintOrder
from hallserver.gateway.handlers import Handlers
from hallserver.models import Ticket
from tests.conftest import login
from tests.integration.helpers import id_number

API = "/api/v1"
BASE = "http://hall.test:8000"


def issue_on_the_bus(client: TestClient, **params: Any) -> tuple[dict[str, Any], list[PrintOrder]]:
    """ticket.issue from kiosk-01 through the gateway's handlers (no broker needed): the reply and the slips."""
    hall = client.app.state.hall  # type: ignore[attr-defined]
    handlers = Handlers(hall.ctx, hall.devices, BASE)
    request = TicketIssue(ts=datetime.now(UTC), request_id="req-00000001", **params)
    with session_scope(hall.engine) as s:
        data, effects = handlers.handle(s, hall.devices.get("kiosk-01"), "ticket.issue", request)
    return data, effects.prints


def path_of(url: str) -> str:
    """The JSON twin of the phone page a QR code opens (/m/t/{token} → /api/v1/tickets/by-token/{token})."""
    assert url.startswith(BASE + "/m/t/"), url
    return url.removeprefix(BASE).replace("/m/t/", "/api/v1/tickets/by-token/")


def test_ticket_ids_need_a_login(hall_client: TestClient) -> None:
    manager = login(hall_client, "m01")
    ticket_id = hall_client.post(f"{API}/tickets", json={"group": "consult"}, headers=manager).json()["ticket_id"]
    anonymous = hall_client.get(f"{API}/tickets/{ticket_id}")
    assert anonymous.status_code == 401
    assert anonymous.json() == {"error": {"code": "unauthorized", "message": "请先登录", "data": {}}}
    assert hall_client.get(f"{API}/tickets", params={"number": "G001"}).status_code == 401
    staff = login(hall_client, "s06")  # plain window staff
    seen = hall_client.get(f"{API}/tickets/{ticket_id}", headers=staff)
    assert seen.status_code == 200 and seen.json()["number"] == "G001"
    by_number = hall_client.get(f"{API}/tickets", params={"number": "G001"}, headers=staff)
    assert by_number.status_code == 200 and by_number.json()["id"] == ticket_id


def test_the_slip_and_the_bus_reply_point_to_the_public_token(hall_client: TestClient) -> None:
    data, prints = issue_on_the_bus(
        hall_client, group="police", identity={"id_number": id_number(1), "name": "张小三", "method": "id_card"}
    )
    (slip,) = [p for p in prints if p.kind == "ticket"]
    qr = slip.document["qr"]
    assert qr == data["lookup_url"]
    assert re.fullmatch(rf"{BASE}/m/t/[A-Za-z0-9_-]{{22,}}", qr), qr
    assert not re.search(rf"/{data['ticket_id']}(/|$)", qr)  # the sequential id is not in the QR code
    hall = hall_client.app.state.hall  # type: ignore[attr-defined]
    with session_scope(hall.engine) as s:
        stored = s.get(Ticket, data["ticket_id"])
        assert stored is not None and qr.endswith(f"/{stored.public_token}")

    public = hall_client.get(path_of(qr))  # no login: this is what a citizen's phone opens
    assert public.status_code == 200, public.text
    view = public.json()
    assert view["number"] == data["ticket"] == "A001" and view["group"] == "police" and view["group_name"] == "公安服务"
    assert view["state"] == "waiting" and view["state_label"] and view["waiting_ahead"] == 0
    assert view["masked_name"] == "张*三"
    assert "id" not in view and "ticket_id" not in view and "identity_hash" not in view
    assert id_number(1) not in public.text and "张小三" not in public.text


def test_the_public_view_follows_the_queue(hall_client: TestClient) -> None:
    first, _ = issue_on_the_bus(hall_client, group="consult")
    second, _ = issue_on_the_bus(hall_client, group="consult")
    assert first["lookup_url"] != second["lookup_url"]
    assert hall_client.get(path_of(second["lookup_url"])).json()["waiting_ahead"] == 1
    manager = login(hall_client, "m01")
    hall_client.put(f"{API}/windows/w14/groups", json={"groups": ["consult"]}, headers=manager)
    assert hall_client.post(f"{API}/windows/w14/call-next", headers=manager).json()["ticket"]["number"] == "G001"
    called = hall_client.get(path_of(first["lookup_url"])).json()
    assert called["state"] == "called" and called["window_id"] == "w14" and called["waiting_ahead"] is None
    assert hall_client.get(path_of(second["lookup_url"])).json()["waiting_ahead"] == 0


def test_a_wrong_token_is_not_found(hall_client: TestClient) -> None:
    issue_on_the_bus(hall_client, group="consult")
    wrong = hall_client.get(f"{API}/tickets/by-token/{'A' * 22}")
    assert wrong.status_code == 404
    error = wrong.json()["error"]
    assert error["code"] == "not_found" and "凭条" in error["message"] and error["data"] == {}
    malformed = hall_client.get(f"{API}/tickets/by-token/short")
    assert malformed.status_code == 422 and malformed.json()["error"]["code"] == "invalid"


def test_every_ticket_gets_its_own_token(hall_client: TestClient) -> None:
    manager = login(hall_client, "m01")
    for _ in range(5):
        assert hall_client.post(f"{API}/tickets", json={"group": "consult"}, headers=manager).status_code == 201
    hall = hall_client.app.state.hall  # type: ignore[attr-defined]
    with session_scope(hall.engine) as s:
        tokens = [t.public_token for t in s.exec(select(Ticket)).all()]
    assert len(tokens) == 5 and len(set(tokens)) == 5 and all(len(t) >= 22 for t in tokens)


def test_migration_0008_gives_existing_tickets_a_token(database_url: str) -> None:
    """On SQLite and PostgreSQL: tickets from before 0008 get distinct tokens, and the column is then required."""
    url = database_url
    downgrade(url, "0007")
    engine = sa.create_engine(url)
    row = (
        "INSERT INTO ticket (number, series, seq, service_date, group_code, priority, channel, state, issued_at,"
        " queue_key, call_count) VALUES (:n, 'A', :seq, '2026-11-23', 'police', 'normal', 'kiosk', 'waiting',"
        " '2026-11-23 01:00:00+00:00', '2026-11-23 01:00:00+00:00', 0)"
    )
    with engine.begin() as conn:
        for seq in (1, 2, 3):
            conn.execute(sa.text(row), {"n": f"A00{seq}", "seq": seq})
    upgrade(url)
    with engine.connect() as conn:
        tokens = conn.execute(sa.text("SELECT public_token FROM ticket ORDER BY id")).scalars().all()
    assert len(tokens) == 3 and len(set(tokens)) == 3
    assert all(t is not None and re.fullmatch(r"[A-Za-z0-9_-]{22}", t) for t in tokens)
    with pytest.raises(IntegrityError), engine.begin() as conn:  # unique, and required from now on
        conn.execute(sa.text("UPDATE ticket SET public_token = :t WHERE seq = 2"), {"t": tokens[0]})
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(sa.text("UPDATE ticket SET public_token = NULL WHERE seq = 3"))
    engine.dispose()  # no idle connection of ours next to the migration's ALTER TABLE
    downgrade(url, "0007")
    assert "public_token" not in {c["name"] for c in sa.inspect(engine).get_columns("ticket")}
    engine.dispose()
