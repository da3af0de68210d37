"""Issue 16: a kiosk rating needs proof that the rater had the visit — the ID card that took the ticket, or
the visit's rating code — checked by the server (visit.check) before the levels, and again on
evaluation.submit. On a real broker and hall server, through the kiosk's own bus service."""

from __future__ import annotations

import pytest
from sqlmodel import select

from hallserver.db import session_scope
from hallserver.models import Evaluation, Rectification, Visit
from hallserver.services import rating_proof
from kiosk.terminal.service import KioskError, KioskService
from tests.gateway.fixtures import Bus
from tests.integration.helpers import id_number
from tests.ui.helpers import serve


def _visit_and_code(bus: Bus, visit_id: int) -> tuple[Visit, str]:
    hall = bus.http.app.state.hall  # type: ignore[attr-defined]
    with session_scope(hall.engine) as s:
        visit = s.get(Visit, visit_id)
        assert visit is not None
        s.expunge(visit)
        return visit, rating_proof.rating_code(hall.ctx, visit)


def _ratings(bus: Bus, visit_id: int) -> tuple[int, int]:
    hall = bus.http.app.state.hall  # type: ignore[attr-defined]
    with session_scope(hall.engine) as s:
        rated = s.exec(select(Evaluation).where(Evaluation.visit_id == visit_id)).all()
        cases = s.exec(select(Rectification).where(Rectification.visit_id == visit_id)).all()
        return len(rated), len(cases)


def test_a_rating_for_a_visit_the_rater_did_not_have_is_refused(bus: Bus, kiosk_service: KioskService) -> None:
    owner = {"id_number": id_number(11), "name": "王小明", "method": "id_card"}
    stranger = {"id_number": id_number(12), "name": "赵大", "method": "id_card"}
    issued = kiosk_service.request("ticket.issue", group="police", identity=owner)
    serve(bus, "w01")
    (visit,) = kiosk_service.request("visit.recent", identity=owner)["visits"]
    visit_id = visit["visit_id"]
    _, code = _visit_and_code(bus, visit_id)
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    # The old attack: today's ticket number and 非常不满意, no card, no code.
    for params in (
        {"ticket": issued["ticket"]},
        {"visit_id": visit_id},
        {"ticket": issued["ticket"], "identity": stranger},
        {"visit_id": visit_id, "identity": stranger},
        {"ticket": issued["ticket"], "code": wrong},
    ):
        with pytest.raises(KioskError) as refused:
            kiosk_service.request("evaluation.submit", level=1, channel="kiosk", **params)
        assert refused.value.code == "forbidden" and "无法核实" in refused.value.message, params
        with pytest.raises(KioskError) as checked:
            kiosk_service.request("visit.check", **params)
        assert checked.value.code == "forbidden", params
    assert _ratings(bus, visit_id) == (0, 0)  # nothing recorded, no rectification against the staff

    # Proven by the ticket number and the rating code: the kiosk is told the window, masked staff, item.
    seen = kiosk_service.request("visit.check", ticket=issued["ticket"], code=code)
    assert seen["visit_id"] == visit_id and seen["window_name"] == "1号窗口" and seen["window_number"] == 1
    assert seen["staff"] and "*" in seen["staff"]
    assert seen["rated"] is False and "王小明" not in str(seen) and owner["id_number"] not in str(seen)
    rated = kiosk_service.request("evaluation.submit", visit_id=visit_id, level=1, channel="kiosk", code=code)
    assert rated["is_bad"] is True and rated["rectification_id"]
    assert _ratings(bus, visit_id) == (1, 1)

    # Once only: the card that took the ticket cannot rate it again.
    with pytest.raises(KioskError) as again:
        kiosk_service.request("evaluation.submit", visit_id=visit_id, level=5, channel="kiosk", identity=owner)
    assert again.value.code == "already_rated"
    assert kiosk_service.request("visit.check", visit_id=visit_id, identity=owner)["rated"] is True


def test_an_evaluator_rates_only_its_own_windows_visits(bus: Bus, kiosk_service: KioskService) -> None:
    from broker.messages import EvaluationSubmit, Request

    owner = {"id_number": id_number(13), "name": "孙小美", "method": "id_card"}
    kiosk_service.request("ticket.issue", group="police", identity=owner)
    serve(bus, "w01")
    (visit,) = kiosk_service.request("visit.recent", identity=owner)["visits"]
    other, _ = bus.device("eval-w02")  # the evaluator of another window
    rating = EvaluationSubmit(ts=bus.clock.now(), request_id=Request.new_id(), visit_id=visit["visit_id"], level=1)
    reply = other.request("evaluation.submit", rating)
    assert reply.error is not None and reply.error.code == "forbidden"
    assert _ratings(bus, visit["visit_id"]) == (0, 0)
    own, _ = bus.device("eval-w01")
    fresh = rating.model_copy(update={"request_id": Request.new_id(), "level": 5})
    assert own.request("evaluation.submit", fresh).status == "ok"
    assert _ratings(bus, visit["visit_id"]) == (1, 0)
