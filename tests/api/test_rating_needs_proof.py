"""A rating over REST is accepted only for a visit the rater proves: its rating code, its one-time link token,
or the ID card that took the ticket. Claims (a channel name, a ticket number, someone else's card, another
visit's code) are refused with the citizen's message, and nothing is recorded; the follow-up rating of a
rectification is proven the same way."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from hallserver.models import Evaluation, Visit
from hallserver.services import rating_proof
from tests.conftest import login
from tests.integration.helpers import id_number
from tests.rating_proofs import rating_code

API = "/api/v1"
ITEM = "11440300MB2D41730K000172102000000"  # 居住证申领
CARD = id_number(5)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def refused(response: Any) -> None:
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "forbidden" and error["message"] == rating_proof.REFUSED


def served(http: TestClient, staff: dict[str, str], seed: int) -> dict[str, Any]:
    """A visit at w05 for a ticket taken with ID card `seed`."""
    card = {"method": "id_card", "id_number": id_number(seed), "name": "张小三"}
    ok(http.post(f"{API}/tickets", headers=staff, json={"item_code": ITEM, "identity": card}), 201)
    for step, body in (("call-next", None), ("start", None), ("finish", {"outcome": "咨询"})):
        ok(http.post(f"{API}/windows/w05/{step}", headers=staff, json=body))
    return dict(ok(http.get(f"{API}/visits", params={"window_id": "w05"}, headers=staff))[-1])


def ratings(http: TestClient) -> int:
    with Session(http.app.state.hall.engine) as s:  # type: ignore[attr-defined]
        return int(s.exec(select(func.count()).select_from(Evaluation)).one())


def test_only_a_proven_visit_can_be_rated(hall_client: TestClient) -> None:
    http = hall_client
    staff = login(http, "s05")
    mine, other = served(http, staff, 5), served(http, staff, 6)
    url = f"{API}/evaluations"
    for claim in (
        {"visit_id": mine["id"], "level": 1},  # no proof at all
        {"visit_id": mine["id"], "level": 1, "channel": "qr"},
        {"visit_id": mine["id"], "level": 1, "channel": "evaluator"},  # the evaluator rates over the bus only
        {"visit_id": mine["id"], "level": 1, "channel": "kiosk"},
        {"ticket": mine["ticket"], "level": 1},
        {"visit_id": mine["id"], "level": 1, "code": rating_code(http, other["id"])},  # another visit's code
        {"visit_id": mine["id"], "level": 1, "code": "000000"},
        {"visit_id": mine["id"], "level": 1, "identity": {"method": "id_card", "id_number": id_number(6)}},
    ):
        refused(http.post(url, json=claim))
    forged = http.post(url, json={"visit_id": mine["id"], "level": 1, "token": f"{mine['id']}.20261130.forged"})
    assert forged.status_code == 404 and forged.json()["error"]["message"] == "评价链接无效，请核对短信中的链接"
    assert ratings(http) == 0
    hall = http.app.state.hall  # type: ignore[attr-defined]
    with Session(hall.engine) as s:
        other_visit = s.get(Visit, other["id"])
        assert other_visit is not None
        other_token = rating_proof.rating_token(hall.ctx, other_visit)
    refused(http.post(url, json={"visit_id": mine["id"], "level": 1, "token": other_token}))
    assert ratings(http) == 0

    by_card = ok(
        http.post(url, json={"visit_id": mine["id"], "level": 4, "identity": {"method": "id_card", "id_number": CARD}}),
        201,
    )
    assert by_card["evaluation"]["label"] == "满意"
    by_link = ok(http.post(url, json={"visit_id": other["id"], "level": 1, "token": other_token}), 201)
    assert by_link["is_bad"] and by_link["rectification_id"]
    again = http.post(url, json={"visit_id": other["id"], "level": 5, "code": rating_code(http, other["id"])})
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_rated"  # 一次一评

    case = by_link["rectification_id"]
    manager = login(http, "m01")
    ok(http.post(f"{API}/rectifications/{case}/callback", headers=manager, json={"note": "已电话回访"}))
    ok(http.post(f"{API}/rectifications/{case}/rectify", headers=manager, json={"measures": "培训", "result": "改进"}))
    followup = f"{API}/rectifications/{case}/followup"
    refused(http.post(followup, json={"level": 5}))
    refused(http.post(followup, json={"level": 5, "code": rating_code(http, mine["id"])}))
    assert ok(http.get(f"{API}/rectifications", headers=manager))[0]["state"] == "rectified"
    done = ok(http.post(followup, json={"level": 5, "code": rating_code(http, other["id"])}), 201)
    assert done["evaluation"]["kind"] == "followup"
    assert ok(http.get(f"{API}/rectifications", headers=manager))[0]["state"] == "confirmed"


def test_a_rating_code_cannot_be_guessed(hall_client: TestClient) -> None:
    http = hall_client
    visit = served(http, login(http, "s05"), 7)
    url, code = f"{API}/evaluations", rating_code(http, visit["id"])
    wrong = [f"{(int(code) + n) % 10**6:06d}" for n in range(1, 6)]
    for guess in wrong:
        refused(http.post(url, json={"visit_id": visit["id"], "level": 1, "code": guess}))
    blocked = http.post(url, json={"visit_id": visit["id"], "level": 1, "code": code})  # even the right one, today
    assert blocked.status_code == 429 and blocked.json()["error"]["message"] == rating_proof.TOO_MANY_CODES
    assert ratings(http) == 0
    card = {"method": "id_card", "id_number": id_number(7)}  # the card that took the ticket still proves it
    ok(http.post(url, json={"visit_id": visit["id"], "level": 5, "identity": card}), 201)
