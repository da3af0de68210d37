"""What a rater shows over REST (POST /api/v1/evaluations needs it): the visit's 6-digit rating code, the one
a citizen finds in the rating invitation, computed here from the in-process app's hall context."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from hallserver.db import session_scope
from hallserver.models import Rectification, Visit
from hallserver.services import rating_proof


def rating_code(http: TestClient, visit_id: int) -> str:
    """The rating code of a visit, as the rating invitation SMS carries it."""
    hall = http.app.state.hall  # type: ignore[attr-defined]
    with session_scope(hall.engine) as s:
        visit = s.get(Visit, visit_id)
        assert visit is not None, visit_id
        return rating_proof.rating_code(hall.ctx, visit)


def proven(http: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    """A rating body with its visit's rating code added."""
    return {**body, "code": rating_code(http, int(body["visit_id"]))}


def followup_code(http: TestClient, rectification_id: int) -> str:
    """The rating code of the visit a rectification is about (the follow-up rating is proven like the first)."""
    hall = http.app.state.hall  # type: ignore[attr-defined]
    with session_scope(hall.engine) as s:
        case = s.get(Rectification, rectification_id)
        assert case is not None, rectification_id
        visit_id = case.visit_id
    return rating_code(http, visit_id)
