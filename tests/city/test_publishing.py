"""同源发布 end to end over real HTTP: the city API (uvicorn, PostgreSQL) publishes catalog and calendar
versions; two hall apps fetch, check, apply atomically and report them; broken versions are refused by the
city (with the problem named) or, when they reach the halls, by each hall with an alert while the last good
version keeps serving."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert

from city import hall_tokens, publishing
from hallcore.calendar import HOLIDAYS_FILE, Holidays
from hallcore.clock import ManualClock
from hallcore.published import etag
from hallserver import cityfeed
from hallserver.app import create_app
from hallserver.live.feed import FloorFeed
from tests.cityfeed.rig import Served, catalog_files, city_app, city_database, hall_copy, login
from tests.conftest import fresh_sqlite, hall_settings

ITEM = "11440305MB2F37106H000171101000000"  # 内地居民结婚登记


@pytest.fixture(scope="module")
def city(postgres_url: str) -> Iterator[tuple[Engine, Served]]:
    with city_database(postgres_url) as engine:
        served = Served(city_app(engine)).start()
        try:
            yield engine, served
        finally:
            served.stop()


def _hall(tmp: Path, sqlite_template: Path, clock: ManualClock, hall_id: str, code: str, url: str, token: str) -> Any:
    folder, secret = hall_copy(tmp, hall_id, code, "testcity", url, token)
    (tmp / hall_id).mkdir()
    settings = hall_settings(fresh_sqlite(sqlite_template, tmp / hall_id), tmp, hall_dir=folder, secret_dir=secret)
    return TestClient(create_app(settings, clock))


def _renamed(files: dict[str, str], name: str) -> dict[str, str]:
    return {**files, "marriage.yaml": files["marriage.yaml"].replace("name: 内地居民结婚登记", f"name: {name}", 1)}


def _poll(client: TestClient) -> cityfeed.CityFeed:
    feed = cityfeed.feed_of(client.app.state.hall.ctx)  # type: ignore[attr-defined]
    assert feed is not None, "the city feed did not start for a hall with a city: section"
    feed.poll()
    return feed


def _item_name(client: TestClient) -> str:
    response = client.get(f"/api/v1/catalog/items/{ITEM}")
    assert response.status_code == 200, response.text
    return str(response.json()["name"])


def test_a_published_catalog_reaches_two_halls_and_a_broken_one_is_refused_by_each(
    city: tuple[Engine, Served], sqlite_template: Path, clock: ManualClock, tmp_path: Path
) -> None:
    engine, served = city
    now = datetime.now(UTC)
    tokens = {code: hall_tokens.issue(engine, code, now) for code in ("0101", "0102")}
    with (
        _hall(tmp_path, sqlite_template, clock, "hall-a", "0101", served.url, tokens["0101"]) as a,
        _hall(tmp_path, sqlite_template, clock, "hall-b", "0102", served.url, tokens["0102"]) as b,
    ):
        halls = (a, b)
        for hall in halls:  # nothing published yet: each hall serves its own files and says so
            _poll(hall)
            assert cityfeed.served_versions(hall.app.state.hall.ctx)["catalog_version"].startswith("local-")

        # v1: a good catalog, published by a city admin, reaches both halls
        files = _renamed(catalog_files(), "内地居民结婚登记（市级版本一）")
        with httpx.Client(base_url=served.url, headers=login(served.url)) as api:
            created = api.post("/api/v1/publishing/catalog", json={"files": files})
            assert created.status_code == 201, created.text
            assert created.json()["label"] == "v1"
            again = api.post("/api/v1/publishing/catalog", json={"files": files})
            assert again.status_code == 200 and again.json()["created"] is False  # a retry makes no v2
        for hall in halls:
            _poll(hall)
            assert _item_name(hall) == "内地居民结婚登记（市级版本一）"
            assert cityfeed.served_versions(hall.app.state.hall.ctx)["catalog_version"] == "v1"
            search = hall.get("/api/v1/catalog/search", params={"q": "市级版本一"})
            assert search.status_code == 200 and search.json()[0]["code"] == ITEM  # the search index moved too

        # Refused at the city: a vague material (002 §17), named in the answer; nothing stored
        vague = files["marriage.yaml"].replace("name: 男女双方居民身份证", "name: 其他材料", 1)
        with httpx.Client(base_url=served.url, headers=login(served.url)) as api:
            refused = api.post("/api/v1/publishing/catalog", json={"files": {**files, "marriage.yaml": vague}})
        assert refused.status_code == 422, refused.text
        assert (
            "其他材料" in refused.json()["error"]["message"] and "marriage.yaml" in refused.json()["error"]["message"]
        )
        assert publishing.current(engine, "catalog").version == 1  # type: ignore[union-attr]

        # Valid for the city but not for these halls: a domain no queue of theirs serves
        moved = files["marriage.yaml"].replace("code: marriage", "code: marriage_city", 1)
        with httpx.Client(base_url=served.url, headers=login(served.url)) as api:
            v2 = api.post("/api/v1/publishing/catalog", json={"files": {**files, "marriage.yaml": moved}})
        assert v2.status_code == 201, v2.text
        for hall in halls:
            feed = _poll(hall)
            ctx = hall.app.state.hall.ctx
            assert cityfeed.served_versions(ctx)["catalog_version"] == "v1"  # the last good version serves
            assert _item_name(hall) == "内地居民结婚登记（市级版本一）"
            [alert] = cityfeed.alerts(ctx)
            assert alert.title == "市级下发的事项目录v2未通过校验" and "marriage_city" in alert.detail
            floor = FloorFeed(ctx, hall.app.state.hall.engine).snapshot()
            assert any(x["key"] == "city_publish:catalog" for x in floor["alerts"])  # managers see it
            assert feed.state["catalog"].refusal is not None

        # A version altered or broken on its way (stored behind the city's checker): each hall refuses it
        broken = {**files, "marriage.yaml": "domain: [unclosed"}
        with engine.begin() as conn:
            conn.execute(
                insert(publishing.publication).values(
                    kind="catalog",
                    version=3,
                    etag=etag("catalog", broken),
                    files=broken,
                    summary="-",
                    published_by="test",
                    published_at=now,
                )
            )
        for hall in halls:
            _poll(hall)
            assert cityfeed.served_versions(hall.app.state.hall.ctx)["catalog_version"] == "v1"
            assert "v3" in cityfeed.alerts(hall.app.state.hall.ctx)[0].title

        # v4 good again: served, the alert is gone
        with httpx.Client(base_url=served.url, headers=login(served.url)) as api:
            v4 = api.post(
                "/api/v1/publishing/catalog", json={"files": _renamed(catalog_files(), "内地居民结婚登记（版本四）")}
            )
        assert v4.json()["label"] == "v4"
        for hall in halls:
            _poll(hall)
            assert _item_name(hall) == "内地居民结婚登记（版本四）"
            assert cityfeed.alerts(hall.app.state.hall.ctx) == []
        pointer = tmp_path / "state-hall-a" / "cityfeed" / "catalog" / "current"
        assert pointer.is_symlink() and pointer.resolve().name.startswith("v4-")

    # Restarted with the city unreachable: the hall serves v4 from its own disk at once, and does not crash
    folder = tmp_path / "hall-hall-a"
    profile = (folder / "hall.yaml").read_text(encoding="utf-8")
    (folder / "hall.yaml").write_text(profile.replace(served.url, "http://127.0.0.1:9"), encoding="utf-8")
    settings = hall_settings(
        fresh_sqlite(sqlite_template, tmp_path / "hall-a"),
        tmp_path,
        hall_dir=folder,
        secret_dir=tmp_path / "state-hall-a" / "secret",
    )
    with TestClient(create_app(settings, clock)) as restarted:
        _poll(restarted)
        assert _item_name(restarted) == "内地居民结婚登记（版本四）"
        assert cityfeed.served_versions(restarted.app.state.hall.ctx)["catalog_version"] == "v4"


def test_calendar_publishing_etag_and_access(
    city: tuple[Engine, Served], sqlite_template: Path, clock: ManualClock, tmp_path: Path
) -> None:
    engine, served = city
    token = hall_tokens.issue(engine, "0103", datetime.now(UTC))
    calendar = HOLIDAYS_FILE.read_text(encoding="utf-8")
    national_day = '      - {name: 国庆节, from: "2026-10-01", to: "2026-10-07"}\n'
    day_off = '      - {name: 临时休假, from: "2026-11-24", to: "2026-11-24"}\n'
    extra_day = calendar.replace(national_day, national_day + day_off, 1)
    assert extra_day != calendar
    admin = login(served.url)
    with httpx.Client(base_url=served.url) as api:
        assert api.get("/api/v1/publishing/calendar/current").status_code == 401  # no token
        hall_auth = {"Authorization": f"Bearer {token}"}
        assert api.get("/api/v1/publishing/calendar/current", headers=hall_auth).status_code == 404  # none yet
        forbidden = api.post(
            "/api/v1/publishing/calendar", json={"files": {"cn_holidays.yaml": extra_day}}, headers=hall_auth
        )
        assert forbidden.status_code == 403  # a hall may not publish, nor may a viewer
        viewer = api.post("/api/v1/publishing/calendar", json={"files": {}}, headers=login(served.url, "viewer1"))
        assert viewer.status_code == 403
        bad = calendar.replace('{date: "2026-01-04", reason: 元旦调休}', '{date: "2026-01-05", reason: 元旦调休}')
        refused = api.post("/api/v1/publishing/calendar", json={"files": {"cn_holidays.yaml": bad}}, headers=admin)
        assert refused.status_code == 422 and "2026-01-05" in refused.json()["error"]["message"]
        made = api.post("/api/v1/publishing/calendar", json={"files": {"cn_holidays.yaml": extra_day}}, headers=admin)
        assert made.status_code == 201, made.text
        first = api.get("/api/v1/publishing/calendar/current", headers=hall_auth)
        assert first.status_code == 200 and first.headers["ETag"] == f'"{made.json()["etag"]}"'
        cached = api.get(
            "/api/v1/publishing/calendar/current", headers={**hall_auth, "If-None-Match": first.headers["ETag"]}
        )
        assert cached.status_code == 304 and cached.content == b""

    with _hall(tmp_path, sqlite_template, clock, "hall-c", "0103", served.url, token) as hall:
        ctx = hall.app.state.hall.ctx
        assert Holidays.load(HOLIDAYS_FILE).is_working_day(date(2026, 11, 24))  # the hall's own file
        _poll(hall)
        assert not ctx.calendar.holidays.is_working_day(date(2026, 11, 24))  # the city's day off now applies
        assert cityfeed.served_versions(ctx)["calendar_version"] == made.json()["label"]


def test_a_hall_with_a_bad_token_keeps_serving_and_says_why(
    city: tuple[Engine, Served], sqlite_template: Path, clock: ManualClock, tmp_path: Path
) -> None:
    _, served = city
    with _hall(tmp_path, sqlite_template, clock, "hall-d", "0104", served.url, "0104." + "x" * 43) as hall:
        _poll(hall)
        ctx = hall.app.state.hall.ctx
        assert cityfeed.served_versions(ctx)["catalog_version"].startswith("local-")
        assert {a.kind for a in cityfeed.alerts(ctx)} == {"city_link"}
        assert hall.get("/api/v1/catalog").status_code == 200


def test_the_command_line_publishes_a_folder_and_refuses_a_broken_one(
    city: tuple[Engine, Served], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from city.cli import app

    engine, _ = city
    monkeypatch.setenv("HALLQ_CITY_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    folder = tmp_path / "calendar"
    folder.mkdir()
    text = HOLIDAYS_FILE.read_text(encoding="utf-8")
    (folder / "cn_holidays.yaml").write_text(text.replace("春节调休}", "春节调休（市级）}", 1), encoding="utf-8")
    runner = CliRunner()
    made = runner.invoke(app, ["publish", "calendar", str(folder), "--by", "张科长"])
    assert made.exit_code == 0 and "已发布 v" in made.output, made.output
    assert publishing.current(engine, "calendar").published_by == "张科长"  # type: ignore[union-attr]
    assert "未生成新版本" in runner.invoke(app, ["publish", "calendar", str(folder)]).output
    (folder / "cn_holidays.yaml").write_text("years: {2026: {status: guess}}", encoding="utf-8")
    refused = runner.invoke(app, ["publish", "calendar", str(folder)])
    assert refused.exit_code == 1 and "节假日日历校验失败" in refused.output
    token = runner.invoke(app, ["publish", "token", "0109"])
    assert token.exit_code == 0 and hall_tokens.verify(engine, token.output.strip()) == "0109"


def test_the_city_sees_which_version_each_hall_serves(city: tuple[Engine, Served]) -> None:
    from city.registry import assign_hall
    from city.store import Incoming, Store
    from hallcore.sync import DeviceHealthRecord, envelope

    engine, served = city
    now = datetime.now(UTC)
    admin = login(served.url)
    files = _renamed(catalog_files(), "内地居民结婚登记（看板）")
    label = httpx.post(f"{served.url}/api/v1/publishing/catalog", json={"files": files}, headers=admin).json()["label"]
    for code, serving in (("0107", label), ("0108", "v0-old")):
        assign_hall(engine, name=f"测试大厅{code}", level="街道", region_code="440305", now=now, code=code)
        health = DeviceHealthRecord(at=now, online=3, offline=0, catalog_version=serving)
        raw = envelope(code, 1, now, health).model_dump_json().encode()
        Store(engine, ManualClock(now)).ingest([Incoming(f"hall/{code}/sync/up/device_health", raw)])
    rows = {r["hall"]: r for r in httpx.get(f"{served.url}/api/v1/publishing/catalog/halls", headers=admin).json()}
    assert rows["0107"]["serving"] == label and rows["0107"]["up_to_date"] is True
    assert rows["0108"]["serving"] == "v0-old" and rows["0108"]["up_to_date"] is False
