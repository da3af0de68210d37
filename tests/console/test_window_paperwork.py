"""The staff console's REST additions: my windows, the window desk, paperwork printed on the window's
printer after finishing (receipt / one-time notice), reprint; and who may use them."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from kiosk.printer.decoder import decode
from kiosk.printer.layout import render
from tests.conftest import login
from tests.gateway.fixtures import Bus
from tests.integration.helpers import id_number
from tests.rating_proofs import rating_code

API = "/api/v1"
ITEM = "11440300MB2D41730K000172102000000"  # 居住证申领 (容缺: 住所或就业证明)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def serve(http: TestClient, staff: dict[str, str], window: str, seed: int) -> dict[str, Any]:
    """Issue a real-name ticket for 居住证申领, call it at the window and start."""
    ok(
        http.post(
            f"{API}/tickets",
            json={"item_code": ITEM, "identity": {"method": "id_card", "id_number": id_number(seed), "name": "张小三"}},
        ),
        201,
    )
    called = ok(http.post(f"{API}/windows/{window}/call-next", headers=staff))
    ok(http.post(f"{API}/windows/{window}/start", headers=staff))
    return called


def test_my_windows_and_desk(bus: Bus) -> None:
    staff = login(bus.http, "s05")  # A of w05; 首席代表 of 市公安局
    mine = ok(bus.http.get(f"{API}/windows/mine", headers=staff))
    w05 = next(m for m in mine if m["window"]["id"] == "w05")
    assert w05["my_role"] == "A" and w05["printer"] == "printer-w05"
    s21 = ok(bus.http.get(f"{API}/windows/mine", headers=login(bus.http, "s21")))
    assert {m["my_role"] for m in s21} == {"B"}

    serve(bus.http, staff, "w05", 1)
    bus.clock.advance(minutes=3)
    view = ok(bus.http.get(f"{API}/windows/w05/desk", headers=staff))
    assert view["ticket"]["number"] == "A001" and view["desk"]["serving_s"] == 180
    assert view["desk"]["applicant"]["name"] == "张*三" and "*" in view["desk"]["applicant"]["id"]
    assert any(i["code"] == ITEM for i in view["desk"]["items"])


def test_finish_prints_on_the_windows_printer(bus: Bus) -> None:
    _, jobs = bus.device("printer-w05", bus.topics.device("printer-w05", "job"), replies=False)
    staff = login(bus.http, "s05")
    serve(bus.http, staff, "w05", 2)
    missing = ["申请人居民身份证", "居住证申领登记表"]
    done = ok(bus.http.post(f"{API}/windows/w05/finish", headers=staff, json={"outcome": "补正", "materials": missing}))
    assert done["printed"]["kind"] == "notice" and done["printed"]["error"] is None
    job = jobs.wait_for(lambda t, p: p is not None and p["job_id"] == done["printed"]["job_id"])
    assert job is not None and job["kind"] == "notice"
    assert [m["name"] for m in job["document"]["materials"]] == missing
    assert job["document"]["masked_name"] == "张*三" and job["document"]["deadline"]

    serve(bus.http, staff, "w05", 3)
    rongque = ok(
        bus.http.post(
            f"{API}/windows/w05/finish",
            headers=staff,
            json={"outcome": "容缺受理", "materials": ["房屋租赁登记备案凭证或不动产权证书"]},
        )
    )
    receipt = jobs.wait_for(lambda t, p: p is not None and p["job_id"] == rongque["printed"]["job_id"])
    assert receipt is not None and receipt["kind"] == "receipt"
    doc = receipt["document"]
    assert doc["serial_no"].startswith(ITEM) and doc["promised_date"]
    assert [m["name"] for m in doc["materials_to_supplement"]] == ["房屋租赁登记备案凭证或不动产权证书"]
    assert "营业执照" not in str(doc["materials_received"])  # data-shared materials are never demanded
    text = "".join(line.strip() for line in decode(render("receipt", doc)).lines)  # as the agent prints it
    assert "受理凭证" in text and doc["serial_no"] in text and "张*三" in text and "补正期限" in text

    again = ok(bus.http.post(f"{API}/windows/w05/reprint", headers=staff))
    assert again["kind"] == "receipt" and again["job_id"] != rongque["printed"]["job_id"]
    jobs.wait_for(lambda t, p: p is not None and p["job_id"] == again["job_id"])

    serve(bus.http, staff, "w05", 4)
    no = ok(
        bus.http.post(
            f"{API}/windows/w05/finish", headers=staff, json={"outcome": "不予受理", "reason": "不属于本市受理范围"}
        )
    )
    assert no["printed"]["label"] == "不予受理凭证"
    rejected = jobs.wait_for(lambda t, p: p is not None and p["job_id"] == no["printed"]["job_id"])
    assert rejected is not None and rejected["document"]["rejection_reason"] == "不属于本市受理范围"
    assert "不属于本市受理范围" in "".join(decode(render("receipt", rejected["document"])).lines)

    serve(bus.http, staff, "w05", 5)
    consult = ok(bus.http.post(f"{API}/windows/w05/finish", headers=staff, json={"outcome": "咨询"}))
    assert consult["printed"] is None  # a consultation prints nothing


def test_staff_act_only_on_their_own_windows(bus: Bus) -> None:
    s06 = login(bus.http, "s06")  # A of w06 only
    for method, path, body in (
        ("post", "windows/w05/call-next", None),
        ("post", "windows/w05/recall", None),
        ("post", "windows/w05/finish", {"outcome": "咨询"}),
        ("post", "windows/w05/pause", None),
        ("post", "windows/w05/reprint", None),
        ("get", "windows/w05/desk", None),
        ("put", "windows/w06/groups", {"groups": ["social"]}),
        ("put", "windows/w06/status", {"status": "closed"}),
        ("get", "rectifications", None),
        ("get", "evaluations", None),
        ("get", "reports", None),
    ):
        response = bus.http.request(method, f"{API}/{path}", headers=s06, json=body)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["error"]["code"] == "forbidden"
    assert [m["window"]["id"] for m in ok(bus.http.get(f"{API}/windows/mine", headers=s06))] == ["w06"]


def test_nobody_sees_the_raters_identity(bus: Bus) -> None:
    """A rater who is another person than the applicant: no staff, chief or manager response names them."""
    staff = login(bus.http, "s05")
    serve(bus.http, staff, "w05", 6)
    ok(bus.http.post(f"{API}/windows/w05/finish", headers=staff, json={"outcome": "咨询"}))
    visit = ok(bus.http.get(f"{API}/visits", params={"window_id": "w05"}, headers=staff))[-1]
    rater = id_number(66)
    ok(
        bus.http.post(
            f"{API}/tickets",
            json={"group": "police", "identity": {"method": "id_card", "id_number": rater, "name": "钱评价"}},
        ),
        201,
    )
    rated = ok(
        bus.http.post(
            f"{API}/evaluations",
            json={
                "visit_id": visit["id"],
                "level": 1,
                "channel": "qr",
                "identity": {"method": "id_card", "id_number": rater},
                "code": rating_code(bus.http, visit["id"]),  # the invitation's code proves the visit
            },
        ),
        201,
    )
    case = rated["rectification_id"]
    assert "rater" not in str(rated) and rater not in str(rated)
    for who in ("m01", "s05"):  # manager; chief of the department
        headers = login(bus.http, who)
        for path in (
            "evaluations",
            "rectifications",
            "rectifications?overdue=true",
            f"evaluations?visit_id={visit['id']}",
        ):
            body = ok(bus.http.get(f"{API}/{path}", headers=headers))
            text = str(body)
            assert "rater" not in text and rater not in text and rater[-4:] not in text and "钱" not in text, path
        step = ("callback", {"note": "已回访"}) if who == "m01" else ("rectify", {"measures": "培训", "result": "改进"})
        after = ok(bus.http.post(f"{API}/rectifications/{case}/{step[0]}", headers=headers, json=step[1]))
        assert "rater" not in str(after) and rater not in str(after)
    staff_only = login(bus.http, "s06")
    assert bus.http.get(f"{API}/evaluations", headers=staff_only).status_code == 403
    assert bus.http.get(f"{API}/rectifications", headers=staff_only).status_code == 403


def test_the_receipt_lists_only_what_was_handed_in(bus: Bus) -> None:
    """Staff tick the materials handed in: the 受理凭证 prints those as received and the guide's other required
    ones as still to hand in — it never claims a material nobody handed over. A reprint says the same."""
    _, jobs = bus.device("printer-w05", bus.topics.device("printer-w05", "job"), replies=False)
    staff = login(bus.http, "s05")
    serve(bus.http, staff, "w05", 7)
    handed = ["居住证申领登记表", "申请人居民身份证"]  # any order: the receipt follows the guide's
    done = ok(bus.http.post(f"{API}/windows/w05/finish", headers=staff, json={"outcome": "受理", "received": handed}))
    job = jobs.wait_for(lambda t, p: p is not None and p["job_id"] == done["printed"]["job_id"])
    assert job is not None and job["kind"] == "receipt"
    doc = job["document"]
    assert [m["name"] for m in doc["materials_received"]] == ["申请人居民身份证", "居住证申领登记表"]
    # Still to hand in: the unconditional one not ticked. Not the proofs demanded only in some cases (one of
    # three: 住所, 就业 or 就读), not the data-shared ones.
    assert [m["name"] for m in doc["materials_to_supplement"]] == ["符合居住证标准的本人近期免冠彩色相片"]
    text = "".join(line.strip() for line in decode(render("receipt", doc)).lines)
    assert "已收材料（2项）" in text and "需补正材料" in text

    again = ok(bus.http.post(f"{API}/windows/w05/reprint", headers=staff))
    reprinted = jobs.wait_for(lambda t, p: p is not None and p["job_id"] == again["job_id"])
    assert reprinted is not None and reprinted["document"]["materials_received"] == doc["materials_received"]

    serve(bus.http, staff, "w05", 8)
    wrong = bus.http.post(f"{API}/windows/w05/finish", headers=staff, json={"outcome": "受理", "received": ["户口本"]})
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid"
    assert "户口本" in wrong.json()["error"]["message"]
    # Not ticked at all (a window caller, an older console): every required material, as before.
    plain = ok(bus.http.post(f"{API}/windows/w05/finish", headers=staff, json={"outcome": "受理"}))
    job = jobs.wait_for(lambda t, p: p is not None and p["job_id"] == plain["printed"]["job_id"])
    assert job is not None and not job["document"].get("materials_to_supplement")
    guide = ok(bus.http.get(f"{API}/catalog/items/{ITEM}"))["materials"]
    demanded = [m["name"] for m in guide if m["required"] and not m["data_shared"]]
    assert [m["name"] for m in job["document"]["materials_received"]] == demanded
