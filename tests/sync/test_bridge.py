"""The generated bridge, proven on two real Mosquittos: a record the hall server publishes on its own broker
arrives at the city broker under the hall's code; an ack and a city notice published at the city arrive at
the hall; the server reads the bridge's state; devices may touch none of it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from broker.mosquitto import bridge_name, bridge_text
from broker.topics import bridge_state, city_catalog_version, sync_ack, sync_up
from tests.bus.fixtures import Probe
from tests.sync.rig import CITY, CODE, INGEST_USER, CityRig, city_rig

NOT_AUTHORIZED = 135


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CityRig]:
    with city_rig(tmp_path_factory.mktemp("bridge") / "secret") as running:
        yield running


def _city_probe(rig: CityRig) -> Probe:
    p = Probe(rig.city, INGEST_USER, rig.ingest_password, client_id="test-ingest")  # type: ignore[arg-type]
    assert p.connect() == 0
    return p


def _arrives(send: Callable[[], object], receiver: Probe, topic: str, tries: int = 10) -> bytes:
    """Send until the message arrives (a bounded number of times); its payload."""
    for attempt in range(tries):
        send()
        try:
            return bytes(receiver.expect(topic, timeout=2).payload)
        except AssertionError:
            if attempt == tries - 1:
                raise
    raise AssertionError("unreachable")


def test_generated_bridge_section(rig: CityRig) -> None:
    conf = rig.hall.files.conf.read_text()
    for line in (
        f"connection {bridge_name(rig.profile)}",
        "bridge_protocol_version mqttv311",
        "cleansession false",
        "notifications true",
        f"remote_username bridge-{CODE}",
        f"topic up/# out 1 hall/demo/sync/ hall/{CODE}/sync/",
        f"topic ack in 1 hall/demo/sync/ hall/{CODE}/sync/",
        f"topic # in 1 city/{CITY}/ city/{CITY}/",
        "bridge_cafile",
        "persistence true",
    ):
        assert line in conf, line
    assert (rig.secret_dir / "city" / "bridge.password").read_text() in conf  # its own account


def test_records_go_out_and_acks_and_notices_come_in(rig: CityRig, probe: Callable[..., Probe]) -> None:
    server = probe(rig.hall, "hallserver")
    assert server.subscribe(bridge_state(bridge_name(rig.profile))) == 1
    _until_up(server, bridge_state(bridge_name(rig.profile)))
    city = _city_probe(rig)
    try:
        assert city.subscribe(f"hall/{CODE}/sync/up/#") == 1
        assert server.subscribe(sync_ack("demo")) == 1
        assert server.subscribe(f"city/{CITY}/#") == 1
        server.publish(sync_up("demo", "visits"), b'{"seq": 1}')
        assert city.expect(sync_up(CODE, "visits"), timeout=10).payload == b'{"seq": 1}'
        # The bridge reports "up" on CONNACK and subscribes at the city just after: the first message in may
        # precede that subscription, so the city side repeats it (acks and notices are idempotent).
        assert (
            _arrives(lambda: city.publish(sync_ack(CODE), b'{"upto": 1}'), server, sync_ack("demo")) == b'{"upto": 1}'
        )
        notice = city_catalog_version(CITY)
        assert _arrives(lambda: city.publish(notice, b'{"version": "v2"}'), server, notice) == b'{"version": "v2"}'
    finally:
        city.close()


def test_devices_may_not_touch_the_city_link(rig: CityRig, probe: Callable[..., Probe]) -> None:
    kiosk = probe(rig.hall, "kiosk-01")
    assert kiosk.publish(sync_up("demo", "visits"), b"{}") == NOT_AUTHORIZED
    assert kiosk.publish(sync_ack("demo"), b'{"upto": 99}') == NOT_AUTHORIZED
    assert kiosk.subscribe("hall/demo/sync/#") == NOT_AUTHORIZED
    assert kiosk.subscribe(bridge_state(bridge_name(rig.profile))) == NOT_AUTHORIZED
    assert kiosk.subscribe(f"city/{CITY}/#") == NOT_AUTHORIZED


def test_a_hall_without_the_bridge_password_is_refused_clearly(tmp_path: Path, broker_dir: Path) -> None:
    from broker.mosquitto import BrokerError, render
    from firmware_config.devices import load_devices
    from tests.bus.fixtures import DEMO_HALL
    from tests.sync.rig import city_profile

    profile = city_profile(8883, tmp_path / "ca.crt")
    devices = load_devices(DEMO_HALL / "devices.yaml", profile)
    with pytest.raises(BrokerError, match="桥接账号分配的密码"):
        render(profile, devices, tmp_path / "secret", broker_dir, port=1883)


def test_a_clustered_city_lists_every_node_first_one_preferred(rig: CityRig, tmp_path: Path) -> None:
    assert rig.profile.city is not None
    link = rig.profile.city.model_copy(update={"tls": False, "other_brokers": ["n2.city.cn:1884", "n3.city.cn:1885"]})
    profile = rig.profile.model_copy(update={"city": link})
    lines = bridge_text(profile, rig.secret_dir, None, tmp_path, None).splitlines()
    assert f"address {link.broker_host}:{link.broker_port} n2.city.cn:1884 n3.city.cn:1885" in lines
    assert "round_robin false" in lines
    with pytest.raises(ValueError):
        type(link).model_validate(link.model_dump() | {"other_brokers": ["n2.city.cn:1884 evil"]})


def _until_up(server: Probe, topic: str, timeout: float = 30) -> None:
    """Wait for the bridge's state "1": a retained "0" comes first while its first connection is under way."""
    deadline = time.monotonic() + timeout
    while server.expect(topic, timeout=max(0.1, deadline - time.monotonic())).payload != b"1":
        pass
