"""The rating invitation SMS carries the visit's one-time link, end to end: the server's own sender loop sends
it through smpplib to the SMSC simulator; the link in the captured text, fetched as it is, opens the phone
rating page of that visit; it rates once, a second use is refused, and an unused link expires. The link is
derived as the message is sent: the outbox stores no link."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hallcore.clock import ManualClock
from hallcore.commands import Outcome
from hallserver.app import create_app
from hallserver.notify.smsc_sim import SmscSimulator
from hallserver.services import windows
from tests.conftest import fresh_sqlite, hall_settings
from tests.integration.helpers import tx
from tests.notify.conftest import all_text, subscribe_ticket

PUBLIC = "https://zwfw.hall.test"
LINK = re.compile(re.escape(PUBLIC) + r"/m/rate/[0-9A-Za-z._-]+")


@pytest.fixture
def server(
    monkeypatch: pytest.MonkeyPatch, sqlite_template: Path, clock: ManualClock, tmp_path: Path
) -> Iterator[tuple[TestClient, SmscSimulator]]:
    """The hall server with its sender loop on the SMSC simulator (fast rounds), public at PUBLIC."""
    sim = SmscSimulator(system_id="hallq", password="secret").start()
    for name, value in (("SMPP_HOST", "127.0.0.1"), ("SMPP_PORT", str(sim.port)), ("SMPP_PASSWORD", "secret"),
                        ("INTERVAL_S", "0.05"), ("SLOW_SCAN_S", "0.1")):  # fmt: skip
        monkeypatch.setenv(f"HALLQ_NOTIFY_{name}", value)
    settings = hall_settings(fresh_sqlite(sqlite_template, tmp_path), tmp_path, public_url=PUBLIC)
    try:
        with TestClient(create_app(settings, clock), base_url=PUBLIC) as client:
            yield client, sim
    finally:
        sim.stop()


def invitation(client: TestClient, sim: SmscSimulator, clock: ManualClock, phone: str) -> tuple[str, str]:
    """Serve a consultation whose citizen left `phone`; the rating invitation's text and its link."""
    hall = client.app.state.hall  # type: ignore[attr-defined]
    ctx, engine = hall.ctx, hall.engine
    subscribe_ticket(engine, ctx, phone=phone)
    for step in (windows.call_next, windows.start):
        tx(engine, lambda s, step=step: step(s, ctx, "w16"))  # type: ignore[misc]
    tx(engine, lambda s: windows.finish(s, ctx, "w16", Outcome.consulted))
    clock.advance(minutes=11)  # the window's evaluator had its ten minutes
    assert sim.wait_for(lambda: any("评价" in m.text and m.destination.endswith(phone) for m in sim.submitted), 15)
    text = next(m.text for m in sim.submitted if "评价" in m.text and m.destination.endswith(phone))
    found = LINK.search(text)
    assert found, text
    return text, found.group(0)


def test_the_invitation_link_opens_the_rating_page_and_rates_once(
    server: tuple[TestClient, SmscSimulator], clock: ManualClock
) -> None:
    client, sim = server
    text, link = invitation(client, sim, clock, "13800138000")
    assert "7天内有效" in text and re.search(r"评价码\d{6}", text)
    assert link.split("/m/rate/")[1] not in all_text(client.app.state.hall.engine)  # type: ignore[attr-defined]

    page = client.get(link)
    assert page.status_code == 200, page.text
    assert "服务评价" in page.text and "16号窗口" in page.text and 'name="level"' in page.text
    done = client.post(link, data={"level": "4", "comment": "很快"})
    assert done.status_code == 200 and "评价已提交" in done.text

    again = client.get(link)
    assert again.status_code == 410 and "已经评价过了" in again.text
    twice = client.post(link, data={"level": "1", "r_attitude": "1"})
    assert twice.status_code == 410 and "评价已提交" not in twice.text
    rows = client.get("/api/v1/evaluations", headers=_manager(client)).json()
    assert [(r["level"], r["channel"]) for r in rows] == [(4, "qr")]


def test_an_unused_invitation_link_expires(server: tuple[TestClient, SmscSimulator], clock: ManualClock) -> None:
    client, sim = server
    _, link = invitation(client, sim, clock, "13900139000")
    assert client.get(link).status_code == 200
    clock.advance(days=8)
    expired = client.get(link)
    assert expired.status_code == 410 and "已过期" in expired.text
    assert client.post(link, data={"level": "5"}).status_code == 410
    assert client.get("/api/v1/evaluations", headers=_manager(client)).json() == []


def _manager(client: TestClient) -> dict[str, str]:
    from tests.conftest import login

    return login(client, "m01")
