"""Window staff record a citizen's number over REST (masked in every answer, only for their own window), and
the server runs the sender loop configured from HALLQ_NOTIFY_… against the SMSC simulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from hallcore.clock import ManualClock
from hallcore.commands import Outcome
from hallserver.app import create_app
from hallserver.db import session_scope
from hallserver.models import Visit
from hallserver.notify.smsc_sim import SmscSimulator
from hallserver.services import windows
from tests.conftest import fresh_sqlite, hall_settings, login
from tests.integration.helpers import issue, tx
from tests.notify.conftest import PHONE, all_text, subscribe_ticket

API = "/api/v1"


def _visit(client: TestClient) -> int:
    hall = client.app.state.hall  # type: ignore[attr-defined]
    ctx, engine = hall.ctx, hall.engine
    issue(engine, ctx, group="consult")
    tx(engine, lambda s: windows.call_next(s, ctx, "w16"))
    tx(engine, lambda s: windows.start(s, ctx, "w16"))
    tx(engine, lambda s: windows.finish(s, ctx, "w16", Outcome.consulted))
    with session_scope(engine) as s:
        visit = s.exec(select(Visit)).one()
    assert visit.id is not None
    return visit.id


def test_window_staff_record_a_number_for_their_visit(hall_client: TestClient) -> None:
    visit_id = _visit(hall_client)
    staff = login(hall_client, "s16")
    refused = hall_client.post(f"{API}/visits/{visit_id}/contact", json={"phone": PHONE, "consent": False},
                               headers=staff)  # fmt: skip
    assert refused.status_code == 400 and "需经本人同意" in refused.json()["error"]["message"]
    bad = hall_client.post(f"{API}/visits/{visit_id}/contact", json={"phone": "110", "consent": True}, headers=staff)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"
    assert "手机号码应为11位" in bad.json()["error"]["message"]
    other = hall_client.post(f"{API}/visits/{visit_id}/contact", json={"phone": PHONE, "consent": True},
                             headers=login(hall_client, "s01"))  # fmt: skip
    assert other.status_code == 403
    anonymous = hall_client.post(f"{API}/visits/{visit_id}/contact", json={"phone": PHONE, "consent": True})
    assert anonymous.status_code == 401
    done = hall_client.post(f"{API}/visits/{visit_id}/contact", json={"phone": PHONE, "consent": True}, headers=staff)
    assert done.status_code == 201, done.text
    body = done.json()
    assert body["masked_phone"] == "138****8000" and f"visit:{visit_id}" in body["subjects"]
    assert PHONE not in done.text
    assert PHONE not in all_text(hall_client.app.state.hall.engine)  # type: ignore[attr-defined]
    out = hall_client.post(f"{API}/contacts/opt-out", json={"phone": PHONE}, headers=staff)
    assert out.status_code == 200 and "已退订" in out.json()["message"]
    summary = hall_client.get(f"{API}/notifications/summary", headers=login(hall_client, "m01"))
    assert summary.status_code == 200
    assert "回复TD" in hall_client.get(f"{API}/notifications/consent").json()["text"]


@pytest.fixture
def smsc_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmscSimulator]:
    sim = SmscSimulator(system_id="hallq", password="secret").start()
    monkeypatch.setenv("HALLQ_NOTIFY_SMPP_HOST", "127.0.0.1")
    monkeypatch.setenv("HALLQ_NOTIFY_SMPP_PORT", str(sim.port))
    monkeypatch.setenv("HALLQ_NOTIFY_SMPP_PASSWORD", "secret")
    monkeypatch.setenv("HALLQ_NOTIFY_INTERVAL_S", "0.05")
    yield sim
    sim.stop()


def test_the_server_drains_the_outbox_to_the_smsc(
    smsc_env: SmscSimulator, sqlite_template: Path, clock: ManualClock, tmp_path: Path
) -> None:
    settings = hall_settings(fresh_sqlite(sqlite_template, tmp_path), tmp_path)
    with TestClient(create_app(settings, clock)) as client:
        hall = client.app.state.hall  # type: ignore[attr-defined]
        for _ in range(3):
            issue(hall.engine, hall.ctx, group="consult")
        subscribe_ticket(hall.engine, hall.ctx)
        assert smsc_env.wait_for(lambda: len(smsc_env.submitted) == 1, timeout=10)
        assert "前面还有3位" in smsc_env.submitted[0].text
        assert smsc_env.bound == 1
    assert smsc_env.wait_for(lambda: smsc_env.bound == 0)  # the server unbound as it stopped
    assert len(smsc_env.submitted) == 1
