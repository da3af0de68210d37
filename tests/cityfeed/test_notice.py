"""The city's notice travels the real path: the city's publisher account → the city Mosquitto → the hall's
generated bridge → the hall's Mosquitto → the hall server, which fetches the new version from the city API at
once (its poll is minutes away) and serves it; the kiosks' retained `catalog/version` moves with it. On the
same rig a kiosk's `progress.query` over the hall bus finds a case accepted at another hall, through the city."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from broker.client import BusClient, BusSettings
from broker.messages import DeviceAvailability, ProgressQuery, Request
from broker.mosquitto import BrokerProcess, free_port, render
from broker.topics import Topics, bridge_state
from city.broker import PUBLISHER_USERNAME, CityBroker
from city.provision import CityEndpoint, install_copy, provision_halls, registered_codes
from city.publishing import NoticeBroker, mqtt_notifier
from firmware_config.credentials import device_account, server_account
from firmware_config.provision import load_hall_devices
from hallcore.clock import ManualClock
from hallserver import cityfeed
from hallserver.app import create_app
from tests.bus.fixtures import HallBroker, Probe
from tests.city.hallrig import merge_city_section, shared_dir, write_hall_dir
from tests.cityfeed.rig import Served, catalog_files, city_app, city_database, login, wait_for
from tests.conftest import fresh_sqlite, hall_settings

CITY = "testcity"


@pytest.fixture
def linked(postgres_url: str, tmp_path: Path) -> Iterator[tuple[Served, BrokerProcess, Path, Path]]:
    """A provisioned city (API + broker) and one hall folder bridged to it: (city API, hall broker, hall
    folder, hall secret folder)."""
    with city_database(postgres_url) as engine:
        city_port = free_port()
        secret = tmp_path / "city-secret"
        hall_dir = write_hall_dir(
            tmp_path / "halls" / "hall-n", "0301", "hall-n", "南山区政务服务中心", "区县级", "440305"
        )
        (hall_dir / "catalog").unlink()  # a real folder: the hall's own catalog files
        (hall_dir / "catalog").mkdir()
        for name, text in catalog_files().items():
            (hall_dir / "catalog" / name).write_text(text, encoding="utf-8")
        city_broker = CityBroker(CITY, [], secret, shared_dir("hallq-city-") / "b", city_port)
        publisher = city_broker.account(PUBLISHER_USERNAME)
        notify = mqtt_notifier(NoticeBroker(CITY, "127.0.0.1", city_port, publisher.username, publisher.password))
        served = Served(city_app(engine, publish_notify=notify)).start()
        endpoint = CityEndpoint(CITY, "127.0.0.1", city_port, tls=False, api_url=served.url)
        provision_halls(engine, endpoint, [hall_dir], secret, tmp_path / "copies", datetime.now(UTC))
        _case_at_another_hall(engine)
        city_broker.rerender(registered_codes(engine))
        city_broker.start()
        merge_city_section(hall_dir, tmp_path / "copies" / "hall-n")
        hall_secret = tmp_path / "hall-secret"
        install_copy(tmp_path / "copies" / "hall-n", hall_secret)
        hall, devices = load_hall_devices(hall_dir)
        files = render(hall, devices, hall_secret, shared_dir("hallq-hall-") / "b", free_port(), hall_dir=hall_dir)
        hall_broker = BrokerProcess(files).start()
        try:
            yield served, hall_broker, hall_dir, hall_secret
        finally:
            hall_broker.stop()
            served.stop()
            city_broker.stop()


def test_the_notice_crosses_the_bridge_and_the_hall_applies_at_once(
    linked: tuple[Served, BrokerProcess, Path, Path], sqlite_template: Path, clock: ManualClock, tmp_path: Path
) -> None:
    served, broker, hall_dir, secret = linked
    account = server_account(secret)
    probe = Probe(HallBroker.__new__(HallBroker), account.username, account.password)  # type: ignore[arg-type]
    probe.broker = broker
    assert probe.connect() == 0
    probe.subscribe(bridge_state("city-hall-n"))
    wait_for(lambda: _bridge_up(probe), 20, "the bridge to the city")
    probe.subscribe(Topics("hall-n").catalog_version())

    settings = hall_settings(
        fresh_sqlite(sqlite_template, tmp_path),
        tmp_path,
        hall_dir=hall_dir,
        secret_dir=secret,
        broker_host=broker.host,
        broker_port=broker.port,
        public_url="http://hall.test:8000",
    )
    with TestClient(create_app(settings, clock)) as hall:
        ctx = hall.app.state.hall.ctx
        feed = cityfeed.feed_of(ctx)
        assert feed is not None and feed.poll_s >= 60  # only the notice can make this quick
        wait_for(lambda: feed.state["catalog"].last_ok is not None, 10, "the first poll")
        wait_for(lambda: hall.app.state.hall.gateway.client.connected, 10, "the hall server on its bus")

        files = catalog_files()
        files["marriage.yaml"] = files["marriage.yaml"].replace(
            "name: 内地居民结婚登记", "name: 内地居民结婚登记（经桥接通知）", 1
        )
        made = httpx.post(f"{served.url}/api/v1/publishing/catalog", json={"files": files}, headers=login(served.url))
        assert made.status_code == 201, made.text

        wait_for(lambda: cityfeed.served_versions(ctx)["catalog_version"] == "v1", 20, "the hall to apply v1")
        version = json.loads(probe.expect(Topics("hall-n").catalog_version(), timeout=10).payload)
        while version["version"] != ctx.catalog.version:  # the retained one from start-up first, then the new one
            version = json.loads(probe.expect(Topics("hall-n").catalog_version(), timeout=10).payload)
        assert (
            hall.get("/api/v1/catalog/items/11440305MB2F37106H000171101000000")
            .json()["name"]
            .endswith("（经桥接通知）")
        )

        # A kiosk at this hall asks over the bus for a case accepted at hall 0302: found through the city
        kiosk = _kiosk(broker, secret, "kiosk-02")
        try:
            query = ProgressQuery(ts=datetime.now(UTC), request_id=Request.new_id(), serial_no=OTHER_SERIAL)
            reply = kiosk.request("progress.query", query)
        finally:
            kiosk.stop()
        assert reply.status == "ok" and reply.data is not None, reply
        [case] = reply.data["cases"]
        assert case["serial_no"] == OTHER_SERIAL and case["item_name"].endswith("（蛇口街道便民服务中心受理）")
    probe.close()


OTHER_SERIAL = "11440305MB2F37106H000171101000000" + "20261120" + "0302" + "00001"


def _case_at_another_hall(engine: Engine) -> None:
    from datetime import date

    from city.registry import assign_hall
    from city.store import Incoming, Store
    from hallcore.sync import CaseRecord, envelope

    now = datetime.now(UTC)
    assign_hall(engine, name="蛇口街道便民服务中心", level="街道", region_code="440305", now=now, code="0302")
    record = CaseRecord(
        serial_no=OTHER_SERIAL,
        item_code="11440305MB2F37106H000171101000000",
        item_name="内地居民结婚登记",
        status="已受理",
        at=now,
        accepted_at=now,
        promised_date=date(2026, 11, 27),
    )
    raw = envelope("0302", 1, now, record).model_dump_json().encode()
    assert Store(engine, ManualClock(now)).ingest([Incoming("hall/0302/sync/up/cases", raw)]).stored == 1


def _kiosk(broker: BrokerProcess, secret: Path, device_id: str) -> BusClient:
    account = device_account(secret, device_id)
    settings = BusSettings("hall-n", device_id, account.username, account.password, broker.host, broker.port)
    client = BusClient(
        settings,
        Topics("hall-n").device(device_id, "availability"),
        lambda s: DeviceAvailability.of(datetime.now(UTC), s, "kiosk"),
    )
    client.enable_replies(device_id)
    client.start()
    assert client.wait_connected(5), "the kiosk could not connect"
    return client


def _bridge_up(probe: Probe) -> bool:
    import queue

    try:
        while True:
            msg = probe.messages.get(timeout=0.2)
            if msg.payload == b"1":
                return True
    except queue.Empty:
        return False
