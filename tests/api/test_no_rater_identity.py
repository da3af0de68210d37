"""No staff-facing answer names a rater (好差评: the rater's identity is kept for the follow-up call only).
Two raters prove visits that are not theirs with the visits' rating codes and give their own ID numbers; one
is known to the hall by name and left a phone number. Then every GET route of /api/v1 and /console (taken
from the app's own routes, so a new one is walked too), every report export (CSV, Excel) and every console
page is fetched as manager, chief, window staff and a department system, and no answer carries a rater's ID
number (whole, masked or its tail), name (whole or masked), phone (whole or masked), person id or hash.
The raters' person ids are moved to numbers nothing else in the hall resembles, so an id is found too."""

from __future__ import annotations

import io
import re
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import text

from hallcore.identity import identity_hash, mask_id_number, mask_name
from hallserver.console.router import PAGES
from hallserver.db import session_scope
from hallserver.services import departments, people
from hallserver.services.notify import contacts
from tests.conftest import login
from tests.integration.helpers import id_number
from tests.rating_proofs import rating_code

API = "/api/v1"
ITEM = "11440300MB2D41730K000172102000000"  # 居住证申领 (市公安局, w05)
SILENT = id_number(91)  # a rater the hall knows only from the rating
KNOWN, KNOWN_NAME, KNOWN_PHONE = id_number(92), "蒋评价", "13600136092"
SKIP = {"/api/v1/live/floor"}  # an endless event stream (its snapshot is /api/v1/floor)


def _routes(app: Any) -> list[str]:
    """Every GET path of the app under /api/v1 and /console, included routers unfolded."""
    out: list[str] = []

    def walk(routes: list[Any], prefix: str) -> None:
        for r in routes:
            if hasattr(r, "original_router"):
                walk(r.original_router.routes, prefix + (getattr(r.include_context, "prefix", "") or ""))
            elif hasattr(r, "routes") and hasattr(r, "path"):
                walk(r.routes, prefix + r.path)
            elif "GET" in (getattr(r, "methods", None) or ()):
                out.append(prefix + r.path)

    walk(app.routes, "")
    return [p for p in out if p.startswith((f"{API}/", "/console")) and p not in SKIP]


def _serve(http: TestClient, staff: dict[str, str], seed: int, outcome: str) -> dict[str, Any]:
    card = {"method": "id_card", "id_number": id_number(seed), "name": "王小办"}
    assert http.post(f"{API}/tickets", headers=staff, json={"item_code": ITEM, "identity": card}).status_code == 201
    for step, body in (("call-next", None), ("start", None), ("finish", {"outcome": outcome})):
        assert http.post(f"{API}/windows/w05/{step}", headers=staff, json=body).status_code == 200
    return dict(http.get(f"{API}/visits", params={"window_id": "w05"}, headers=staff).json()[-1])


def _body(response: Any) -> str:
    kind = response.headers.get("content-type", "")
    if "spreadsheetml" in kind:
        book = load_workbook(io.BytesIO(response.content))
        return "\n".join(str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row)
    return str(response.content.decode("utf-8", "replace"))


def test_no_staff_answer_names_a_rater(hall_client: TestClient) -> None:
    http = hall_client
    hall = http.app.state.hall  # type: ignore[attr-defined]
    chief = login(http, "s05")  # 首席代表 of 市公安局, A of w05
    with session_scope(hall.engine) as s:
        known = people.remember(s, hall.ctx, KNOWN, KNOWN_NAME)
        contacts.record(s, hall.ctx, KNOWN_PHONE, True, channel="sms", via="phone", by="m",
                        subjects=[], person_hash=known.id_hash)  # fmt: skip
        people.remember(s, hall.ctx, SILENT)  # a bare hash, as a first rating would leave it
    with session_scope(hall.engine) as s:  # person ids no other number in the answers looks like
        for n, number in enumerate((SILENT, KNOWN)):
            s.execute(text("UPDATE person SET id = :id WHERE id_hash = :h"),
                      {"id": 987650 + n, "h": identity_hash(hall.ctx.identity_key, number)})  # fmt: skip
    visits = [_serve(http, chief, 21, "受理"), _serve(http, chief, 22, "咨询")]
    rectifications = []
    for visit, rater in zip(visits, (SILENT, KNOWN), strict=True):
        card = {"method": "id_card", "id_number": rater}  # the rater's own card, not the applicant's
        body = {"visit_id": visit["id"], "level": 1, "comment": "态度不好", "indicators": {"attitude": 1},
                "code": rating_code(http, visit["id"]), "identity": card}  # fmt: skip
        rated = http.post(f"{API}/evaluations", json=body)
        assert rated.status_code == 201, rated.text
        rectifications.append(rated.json()["rectification_id"])
    with session_scope(hall.engine) as s:
        raters = [people.find(s, hall.ctx, n) for n in (SILENT, KNOWN)]
        ids = [p.id for p in raters if p is not None]
    assert len(ids) == 2

    forbidden = {KNOWN_NAME, mask_name(KNOWN_NAME), KNOWN_PHONE, "136****6092"}
    for number in (SILENT, KNOWN):
        forbidden |= {number, mask_id_number(number), number[-6:], identity_hash(hall.ctx.identity_key, number)}
    assert ids == [987650, 987651]
    forbidden |= {str(i) for i in ids}

    values = {"visit_id": visits[0]["id"], "rectification_id": rectifications[0], "serial_no": visits[0]["serial_no"],
              "window_id": "w05", "code": ITEM, "cabinet": "cab-01", "ticket_id": 1, "token": "x", "name": "desk",
              "reference": "none", "person_id": ids[0]}  # fmt: skip
    secret_dir = http.app.state.department_secrets  # type: ignore[attr-defined]
    departments.register(secret_dir, "gongan", "市公安局")
    users = {
        "manager": login(http, "m01"),
        "chief": chief,
        "staff": login(http, "s16"),
        "department": {"Authorization": f"Bearer {departments.issue_token(secret_dir, 'gongan')}"},
    }
    pages = [p.stem for p in PAGES.glob("*.html")]
    paths = [re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(values.get(m.group(1), "1")), p) for p in _routes(http.app)]
    paths += [f"/console/{name}" for name in pages]
    paths += [f"{API}/reports?format=csv", f"{API}/reports?format=xlsx", f"{API}/reports/assessment?format=xlsx",
              f"{API}/reports?period=month", f"{API}/evaluations?visit_id={visits[1]['id']}",
              f"{API}/rectifications?overdue=true"]  # fmt: skip
    walked = 0
    for who, headers in users.items():
        for path in paths:
            response = http.get(path, headers=headers)
            seen = _body(response)
            leaked = [f for f in forbidden if f in seen]
            assert not leaked, (who, path, leaked)
            assert "rater" not in seen.lower() or path.startswith("/console"), (who, path)
            walked += response.status_code == 200
    assert walked > 60  # most routes answered (a department system is refused most of them)
