"""The whole hall server with a city link: REST work → outbox → publisher → bridge → city, the city's ack
prunes, and GET /api/v1/sync/status tells managers (only) the backlog, the oldest record, the last ack and
the bridge's state; a hall without a city link keeps its records and says it is not linked."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from hallcore.clock import ManualClock
from hallserver.app import create_app
from tests.bus.fixtures import DEMO_HALL
from tests.conftest import fresh_sqlite, hall_settings, login
from tests.integration.helpers import id_number
from tests.sync.city_ingest import FakeIngest
from tests.sync.helpers import ITEM, NAME
from tests.sync.rig import CityRig, city_rig

API = "/api/v1"


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CityRig]:
    with city_rig(tmp_path_factory.mktemp("app") / "secret") as running:
        yield running


def _hall_dir(rig: CityRig, tmp_path: Path) -> Path:
    """The demo hall's folder with the rig's `city:` section in its hall.yaml."""
    folder = tmp_path / "hall"
    shutil.copytree(DEMO_HALL, folder)
    profile = rig.profile.model_dump(mode="json", exclude_none=True)
    (folder / "hall.yaml").write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
    return folder


def _until(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.1)
    return value


def _serve(http: TestClient, staff: dict[str, str], seed: int) -> None:
    ident = {"method": "id_card", "id_number": id_number(seed), "name": NAME}
    assert http.post(f"{API}/tickets", json={"item_code": ITEM, "identity": ident}, headers=staff).status_code == 201
    for step in ("call-next", "start"):
        assert http.post(f"{API}/windows/w05/{step}", headers=staff).status_code == 200
    finish = http.post(f"{API}/windows/w05/finish", headers=staff, json={"outcome": "受理"})
    assert finish.status_code == 200, finish.text


def test_rest_work_reaches_the_city_and_managers_see_the_link(
    rig: CityRig, tmp_path: Path, sqlite_template: Path, clock: ManualClock
) -> None:
    settings = hall_settings(
        fresh_sqlite(sqlite_template, tmp_path), tmp_path, rig.hall, hall_dir=_hall_dir(rig, tmp_path)
    )
    ingest = FakeIngest(rig)
    try:
        with TestClient(create_app(settings, clock)) as http:
            manager, staff = login(http, "m01"), login(http, "s05")
            status = lambda: http.get(f"{API}/sync/status", headers=manager).json()  # noqa: E731
            _until(lambda: status()["link"] == "up", "the bridge reported up")
            _serve(http, staff, 31)
            seen: dict[str, int] = {}
            while not {"visit.finished", "case.status"} <= set(seen):
                for env in ingest.take(1):
                    seen[env.kind] = env.seq  # the periodic queue and device records come too
            body = status()
            assert body["enabled"] and body["hall_code"] == "0001" and body["city"] == "shenzhen"
            assert body["backlog"] >= 2 and body["oldest_unacked_age_s"] is not None
            assert body["link_label"] == "已连接"
            upto = max(e.seq for e in ingest.received)
            ingest.ack(upto)
            done = _until(lambda: (b := status())["acked_upto"] == upto and b, "the ack was applied")
            assert done["last_ack_at"] is not None and done["backlog"] == body["last_seq"] - upto
            assert http.get(f"{API}/sync/status", headers=staff).status_code == 403
            assert http.get(f"{API}/sync/status").status_code == 401
    finally:
        ingest.close()


def test_a_hall_without_a_city_records_nothing_for_it_and_says_so(hall_client: TestClient) -> None:
    staff, manager = login(hall_client, "s05"), login(hall_client, "m01")
    _serve(hall_client, staff, 32)
    body = hall_client.get(f"{API}/sync/status", headers=manager).json()
    assert body["enabled"] is False and body["link"] == "off" and body["link_label"] == "未接入市级平台"
    assert body["backlog"] == 0 and body["backlog_by_stream"] == []
