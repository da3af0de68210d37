"""Cross-hall progress over real HTTP: a case accepted at hall 0202 (stored by the city's real ingest path)
is found from hall 0201's progress query, by serial number and by the applicant's ID — which travels to the
city only as a hash under the city's identity key. With the city down the hall answers a clear message."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from city import hall_tokens
from city.registry import assign_hall
from city.store import Incoming, Store
from hallcore.clock import ManualClock
from hallcore.identity import _CHECK, _WEIGHTS, identity_hash
from hallcore.sync import CaseRecord, envelope
from hallserver import cityfeed
from hallserver.app import create_app
from hallserver.services import rating_proof
from hallserver.services.case_progress import CITY_DOWN
from hallserver.services.context import HallContext
from tests.cityfeed.rig import Served, city_app, city_database, hall_copy
from tests.conftest import SHANGHAI, fresh_sqlite, hall_settings

CITY_KEY = bytes(range(32))
SERIAL = "11440300MB2F37106H000171101000000" + "20261120" + "0202" + "00007"


def _id_number() -> str:
    base = "44030519900101123"
    return base + _CHECK[sum(int(d) * w for d, w in zip(base, _WEIGHTS, strict=True)) % 11]


ID_NUMBER = _id_number()


@pytest.fixture(scope="module")
def city(postgres_url: str) -> Iterator[tuple[Engine, Served, list[bytes]]]:
    """The city with halls 0201 and 0202 registered and a case accepted at 0202; `seen` records every request
    body and URL the city receives."""
    with city_database(postgres_url) as engine:
        now = datetime(2026, 11, 20, 10, tzinfo=SHANGHAI)
        assign_hall(
            engine,
            name="南山区政务服务中心",
            level="区县级",
            region_code="440305",
            now=now,
            hall_id="hall-a",
            code="0201",
        )
        assign_hall(
            engine,
            name="粤海街道便民服务中心",
            level="街道",
            region_code="440305",
            now=now,
            hall_id="hall-b",
            code="0202",
        )
        record = CaseRecord(
            serial_no=SERIAL,
            item_code="11440305MB2F37106H000171101000000",
            item_name="内地居民结婚登记",
            department="区民政局",
            status="已受理",
            at=now,
            accepted_at=now,
            promised_date=date(2026, 11, 27),
            person_hash=identity_hash(CITY_KEY, ID_NUMBER),
        )
        env = envelope("0202", 1, now, record)
        result = Store(engine, ManualClock(now + timedelta(minutes=1))).ingest(
            [Incoming("hall/0202/sync/up/cases", env.model_dump_json().encode())]
        )
        assert result.stored == 1, result
        seen: list[bytes] = []
        app = city_app(engine)

        @app.middleware("http")
        async def _record(request: Request, call_next: Any) -> Any:
            seen.append(str(request.url).encode() + b" " + await request.body())
            return await call_next(request)

        served = Served(app).start()
        try:
            yield engine, served, seen
        finally:
            served.stop()


def _code_printed_at_hall_b(serial: str) -> str:
    """The 查询码 hall 0202 prints: its own identity key differs from 0201's, the city's key is shared."""
    hall_b = cast(HallContext, SimpleNamespace(identity_key=b"hall-b-own-key-32-bytes-long!!!!", proof_key=CITY_KEY))
    return rating_proof.case_query_code(hall_b, serial)


def _hall_a(tmp: Path, sqlite_template: Path, clock: ManualClock, url: str, token: str) -> TestClient:
    folder, secret = hall_copy(tmp, "hall-a", "0201", "testcity", url, token)
    (secret / "city" / "identity.key").write_text(CITY_KEY.hex(), encoding="ascii")
    settings = hall_settings(fresh_sqlite(sqlite_template, tmp), tmp, hall_dir=folder, secret_dir=secret)
    return TestClient(create_app(settings, clock))


def test_a_case_accepted_at_another_hall_is_found_and_the_id_never_travels(
    city: tuple[Engine, Served, list[bytes]], sqlite_template: Path, clock: ManualClock, tmp_path: Path
) -> None:
    engine, served, seen = city
    token = hall_tokens.issue(engine, "0201", datetime.now(UTC))
    with _hall_a(tmp_path, sqlite_template, clock, served.url, token) as hall:
        [case] = hall.get("/api/v1/progress", params={"serial_no": SERIAL}).json()
        assert case["serial_no"] == SERIAL and case["status"] == "已受理"
        assert case["item_name"] == "内地居民结婚登记（粤海街道便民服务中心受理）"
        assert case["promised_date"] == "2026-11-27" and case["reason"] is None
        assert [h["status"] for h in case["history"]] == ["已受理"]

        answer = hall.post("/api/v1/progress", json={"identity": {"id_number": ID_NUMBER, "method": "id_card"}})
        assert answer.status_code == 200, answer.text
        assert [c["serial_no"] for c in answer.json()] == [SERIAL]
        assert hall.get("/api/v1/progress", params={"serial_no": SERIAL[:-1] + "9"}).json() == []  # nowhere

        # The receipt printed at hall 0202 (its own hall key, the city's key for the 查询码) opens on 0201's phone page.
        page = hall.post("/m/case", data={"serial": SERIAL, "code": _code_printed_at_hall_b(SERIAL)})
        assert page.status_code == 200, page.text
        assert "已受理" in page.text and "内地居民结婚登记" in page.text
        assert hall.post("/m/case", data={"serial": SERIAL, "code": "000000"}).status_code in (400, 404)

    everything = b"\n".join(seen)
    assert identity_hash(CITY_KEY, ID_NUMBER).encode() in everything  # the hash under the city's key…
    assert ID_NUMBER.encode() not in everything  # …never the ID number


def test_city_unreachable_gives_a_clear_message(
    city: tuple[Engine, Served, list[bytes]], sqlite_template: Path, clock: ManualClock, tmp_path: Path
) -> None:
    engine, _, _ = city
    token = hall_tokens.issue(engine, "0201", datetime.now(UTC))
    with _hall_a(tmp_path, sqlite_template, clock, "http://127.0.0.1:9", token) as hall:
        for _ in range(2):  # the second answers at once: the city is not asked again for a while
            refused = hall.get("/api/v1/progress", params={"serial_no": SERIAL})
            assert refused.status_code == 503
            assert refused.json()["error"] == {"code": "unavailable", "message": CITY_DOWN, "data": {}}
        phone = hall.post("/m/case", data={"serial": SERIAL, "code": _code_printed_at_hall_b(SERIAL)})
        assert phone.status_code == 503 and CITY_DOWN in phone.text
        assert hall.get("/api/v1/hall").status_code == 200  # the hall itself carries on
        assert cityfeed.feed_of(hall.app.state.hall.ctx) is not None


def test_a_hall_token_is_required_and_only_halls_may_ask(city: tuple[Engine, Served, list[bytes]]) -> None:
    import httpx2 as httpx

    from tests.cityfeed.rig import login

    _, served, _ = city
    assert httpx.get(f"{served.url}/api/v1/cases/{SERIAL}").status_code == 401
    assert (
        httpx.get(
            f"{served.url}/api/v1/cases/{SERIAL}",
            headers={"Authorization": "Bearer 0201.forged-token-forged-token-forged-token"},
        ).status_code
        == 401
    )
    assert httpx.get(f"{served.url}/api/v1/cases/{SERIAL}", headers=login(served.url)).status_code == 403
