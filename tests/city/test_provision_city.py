"""The city side of provisioning and the city broker it renders: each hall registered with its code, the
hall's copy (bridge password, city identity key, API token), and a real city Mosquitto whose generated ACL
lets a hall's bridge write only its own records and read only its own acks and the city's notices."""

from __future__ import annotations

import shutil
import stat
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from broker.mosquitto import free_port
from city import hall_tokens
from city.broker import INGEST_USERNAME, PUBLISHER_USERNAME, CityBroker, bridge_username
from city.db import make_engine, upgrade
from city.provision import CityEndpoint, install_copy, provision_halls, registered_codes
from firmware_config.hall import CityLink, HallProfile, load_hall_profile
from tests.bus.fixtures import Probe
from tests.conftest import _drop_database, _pg_admin

HALLS = Path(__file__).resolve().parents[2] / "firmware_config" / "halls"
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
ENDPOINT = CityEndpoint("demo-city", "127.0.0.1", 1883, tls=False, api_url="http://127.0.0.1:8100")
OK, NOT_AUTHORIZED, NO_SUBSCRIBERS = 0, 135, 16


@pytest.fixture(scope="module")
def city_engine(postgres_url: str) -> Iterator[Engine]:
    """A fresh, migrated city database."""
    name = f"city_prov_{uuid.uuid4().hex[:8]}"
    _pg_admin(postgres_url, f'CREATE DATABASE "{name}"')
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()
    _drop_database(postgres_url, name)


@pytest.fixture(scope="module")
def provisioned(city_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[Path]]:
    """The demo hall and the 24-hour point provisioned: (city secret folder, output folder, hall folders)."""
    root = tmp_path_factory.mktemp("prov")
    dirs = [HALLS / "demo", HALLS / "point24"]
    provision_halls(city_engine, ENDPOINT, dirs, root / "city-secret", root / "out", NOW)
    return root / "city-secret", root / "out", dirs


def test_each_hall_is_registered_with_the_code_of_its_profile(city_engine: Engine, provisioned: tuple) -> None:
    codes = registered_codes(city_engine)
    assert {"0001", "0004"} <= set(codes)


def test_the_halls_copy_has_its_secrets_and_a_city_section_the_hall_accepts(
    city_engine: Engine, provisioned: tuple
) -> None:
    city_secret, out, dirs = provisioned
    for hall_dir in dirs:
        hall = load_hall_profile(hall_dir / "hall.yaml")
        copy = out / hall.hall.id
        for name in ("bridge.password", "identity.key", "api.token"):
            path = copy / "city" / name
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
            assert path.read_text().strip()
        section = yaml.safe_load((copy / "city.yaml").read_text(encoding="utf-8"))
        assert section["hall"]["code"] == hall.hall.code
        link = CityLink.model_validate(section["city"])
        assert link.bridge_username == bridge_username(hall.hall.code or "")
        # The hall.yaml with the section merged still validates.
        merged = hall.model_dump(mode="json") | {"city": section["city"]}
        HallProfile.model_validate(merged)
        # The bridge password is the city's own copy of that account; the token verifies as this hall.
        city_copy = city_secret / "broker" / f"{link.bridge_username}.password"
        assert (copy / "city" / "bridge.password").read_text().strip() == city_copy.read_text().strip()
        token = (copy / "city" / "api.token").read_text().strip()
        assert hall_tokens.verify(city_engine, token) == hall.hall.code
    keys = {(out / d.name / "city" / "identity.key").read_text() for d in dirs}
    assert len(keys) == 1, "every hall of a city hashes identities with the one city key"


def test_provisioning_again_keeps_passwords_keys_and_tokens(city_engine: Engine, provisioned: tuple) -> None:
    city_secret, out, dirs = provisioned
    before = {p: p.read_text() for p in out.rglob("*") if p.is_file()}
    provision_halls(city_engine, ENDPOINT, dirs, city_secret, out, NOW)
    after = {p: p.read_text() for p in out.rglob("*") if p.is_file()}
    assert before == after


def test_install_copy_puts_the_files_where_the_hall_reads_them(provisioned: tuple, tmp_path: Path) -> None:
    _, out, _ = provisioned
    install_copy(out / "demo", tmp_path / "secret")
    assert (tmp_path / "secret" / "city" / "bridge.password").read_text() == (
        out / "demo" / "city" / "bridge.password"
    ).read_text()


@pytest.fixture(scope="module")
def city_broker(city_engine: Engine, provisioned: tuple) -> Iterator[CityBroker]:
    """The city Mosquitto rendered from the registry (accounts from the city's secret folder)."""
    city_secret, _, _ = provisioned
    folder = Path(tempfile.mkdtemp(prefix="hallq-citybroker-"))
    folder.chmod(0o711)
    codes = registered_codes(city_engine)
    with CityBroker("demo-city", codes, city_secret, folder / "broker", free_port()) as running:
        yield running
    shutil.rmtree(folder, ignore_errors=True)


def _probe(broker: CityBroker, user: str, password: str | None = None, client_id: str = "") -> Probe:
    login = broker.account(user) if password is None else None
    return Probe(broker, user, password if login is None else login.password, client_id=client_id)  # type: ignore[arg-type]


def test_a_bridge_writes_its_own_records_only(city_broker: CityBroker) -> None:
    ingest = _probe(city_broker, INGEST_USERNAME, client_id="ingest-t1")
    assert ingest.connect() == OK
    assert ingest.subscribe("$share/ingest/hall/+/sync/up/+") in (0, 1)
    demo = _probe(city_broker, bridge_username("0001"), client_id="bridge-t1")
    assert demo.connect() == OK
    assert demo.publish("hall/0001/sync/up/visits", b'{"own": 1}') == OK
    assert ingest.expect("hall/0001/sync/up/visits").payload == b'{"own": 1}'
    # Another hall's records, the ack topic, the city's notices: refused by the broker's ACL.
    for topic in ("hall/0004/sync/up/visits", "hall/0001/sync/ack", "city/demo-city/catalog/version"):
        assert demo.publish(topic, b"{}") == NOT_AUTHORIZED, topic
    assert demo.subscribe("hall/0004/sync/ack") == NOT_AUTHORIZED
    assert demo.subscribe("$share/ingest/hall/+/sync/up/+") == NOT_AUTHORIZED
    assert demo.subscribe("hall/0001/sync/ack") in (0, 1)
    assert demo.subscribe("city/demo-city/#") in (0, 1)
    with pytest.raises(AssertionError):
        ingest.expect("hall/0004/sync/up/visits", timeout=0.5)
    demo.close()
    ingest.close()


def test_acks_reach_only_their_hall_and_notices_every_hall(city_broker: CityBroker) -> None:
    demo = _probe(city_broker, bridge_username("0001"), client_id="bridge-t2")
    point = _probe(city_broker, bridge_username("0004"), client_id="bridge-t3")
    for probe in (demo, point):
        assert probe.connect() == OK
    assert demo.subscribe("hall/0001/sync/ack") in (0, 1)
    assert point.subscribe("hall/0004/sync/ack") in (0, 1)
    for probe in (demo, point):
        assert probe.subscribe("city/demo-city/#") in (0, 1)
    ingest = _probe(city_broker, INGEST_USERNAME, client_id="ingest-t2")
    publisher = _probe(city_broker, PUBLISHER_USERNAME, client_id="publisher-t2")
    assert ingest.connect() == OK and publisher.connect() == OK
    assert ingest.publish("hall/0001/sync/ack", b'{"upto": 3}') == OK
    assert demo.expect("hall/0001/sync/ack").payload == b'{"upto": 3}'
    with pytest.raises(AssertionError):
        point.expect("hall/0001/sync/ack", timeout=0.5)
    assert publisher.publish("city/demo-city/catalog/version", b'{"version": "v2"}') == OK
    for probe in (demo, point):
        assert probe.expect("city/demo-city/catalog/version").payload == b'{"version": "v2"}'
    # The publisher writes notices only; the ingest cannot impersonate a hall.
    assert publisher.publish("hall/0001/sync/ack", b"{}") == NOT_AUTHORIZED
    assert ingest.publish("hall/0001/sync/up/visits", b"{}") == NOT_AUTHORIZED
    for probe in (demo, point, ingest, publisher):
        probe.close()


def test_unknown_accounts_and_wrong_passwords_are_refused(city_broker: CityBroker) -> None:
    stranger = _probe(city_broker, "bridge-zzzz", password="guess", client_id="x1")
    assert stranger.connect() != OK
    wrong = _probe(city_broker, bridge_username("0001"), password="not-the-password", client_id="x2")
    assert wrong.connect() != OK
    anonymous = Probe(city_broker, None, None, client_id="x3")  # type: ignore[arg-type]
    assert anonymous.connect() != OK


def test_the_operator_suspends_and_resumes_one_halls_bridge(city_broker: CityBroker) -> None:
    user = bridge_username("0004")
    point = _probe(city_broker, user, client_id="bridge-t4")
    assert point.connect() == OK
    city_broker.suspend_hall("0004")
    try:
        again = _probe(city_broker, user, client_id="bridge-t5")
        assert again.connect() != OK, "a suspended hall's bridge must be refused"
        other = _probe(city_broker, bridge_username("0001"), client_id="bridge-t6")
        assert other.connect() == OK, "other halls keep their link"
        other.close()
    finally:
        city_broker.resume_hall("0004")
    back = _probe(city_broker, user, client_id="bridge-t7")
    assert back.connect() == OK
    back.close()


def test_hallq_city_provision_registers_writes_copies_and_the_city_broker(
    city_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from hallq.cli import main

    monkeypatch.setenv("HALLQ_CITY_DATABASE_URL", city_engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("HALLQ_CITY_CITY_ID", "demo-city")
    out, secret = str(tmp_path / "out"), str(tmp_path / "secret")
    conf_root = Path(tempfile.mkdtemp(prefix="hallq-cityconf-"))
    conf_root.chmod(0o711)  # the mosquitto user reads what is rendered under it
    broker_dir = str(conf_root / "b")
    args = ["city", "provision", str(HALLS / "point24"), "--out", out, "--city-secret", secret, "--no-tls",
            "--broker-port", "1883", "--broker-dir", broker_dir]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "0004" in result.output and "bridge-0004" in result.output
    assert (tmp_path / "out" / "point24" / "city" / "bridge.password").exists()
    security = (Path(broker_dir) / "dynamic-security.json").read_text(encoding="utf-8")
    assert '"bridge-0004"' in security and '"hall/0004/sync/up/#"' in security
    shutil.rmtree(conf_root, ignore_errors=True)
    bad = CliRunner().invoke(main, ["city", "provision", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o2")])
    assert bad.exit_code == 1 and "无法读取大厅配置" in bad.output
