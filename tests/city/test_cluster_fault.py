"""The fault test with the clustered city broker (`make test-cluster`, not `make test`): a 3-node RabbitMQ
3.10 cluster on loopback speaking MQTT 3.1.1 to the halls' bridges, the ingest consuming a durable quorum
queue over AMQP with two competing workers. Traffic at three halls; one node killed with -9 while they
work, then started again; the ingest killed with -9 and restarted. Afterwards the city holds exactly what
every hall produced, each (hall, seq) once, and every outbox is drained.

Each hall's bridge lists every node (`city.other_brokers` in hall.yaml renders `address n1 n2 n3`; Mosquitto
tries them in turn), so a hall whose node dies reconnects to another one.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from city.cluster.rabbitmq import RabbitCluster
from city.db import make_engine, upgrade
from city.provision import CityEndpoint, provision_halls, registered_codes
from tests.city.hallrig import (
    CITY,
    HALLS,
    Hall,
    IngestProcess,
    Traffic,
    caught_up,
    city_counts,
    merge_city_section,
    opening_day,
    rig_state,
    start_hall,
    wait_until,
    write_hall_dir,
)
from tests.conftest import _drop_database, _pg_admin

pytestmark = pytest.mark.cluster
DRAIN_S = 180


@pytest.fixture(scope="module")
def city_db(postgres_url: str) -> Iterator[tuple[str, Engine]]:
    name = f"city_cluster_{uuid.uuid4().hex[:8]}"
    _pg_admin(postgres_url, f'CREATE DATABASE "{name}"')
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    engine = make_engine(url)
    yield url, engine
    engine.dispose()
    _drop_database(postgres_url, name)


def _nodes(code: str, ports: list[int]) -> dict[str, Any]:
    """The bridge's nodes for hall `code`: hall i starts on node i, the others are its failover."""
    first = int(code[-1]) - 1
    order = ports[first:] + ports[:first]
    return {"broker_port": order[0], "other_brokers": [f"127.0.0.1:{p}" for p in order[1:]]}


@pytest.fixture(scope="module")
def rig(city_db: tuple[str, Engine], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    url, engine = city_db
    root = tmp_path_factory.mktemp("cluster")
    cluster = RabbitCluster(root / "rabbit", CITY, [code for code, *_ in HALLS], root / "city-secret")
    ports = cluster.mqtt_ports
    endpoint = CityEndpoint(CITY, "127.0.0.1", ports[0], tls=False)
    dirs = [
        write_hall_dir(root / "halls" / hid, code, hid, name, level, region) for code, hid, name, level, region in HALLS
    ]
    provision_halls(engine, endpoint, dirs, root / "city-secret", root / "copies", datetime.now(UTC))
    assert set(registered_codes(engine)) == {code for code, *_ in HALLS}
    cluster.start()
    halls: list[Hall] = []
    ingest: IngestProcess | None = None
    try:
        start = opening_day(datetime.now(UTC))
        for folder in dirs:
            code = next(code for code, hid, *_ in HALLS if hid == folder.name)
            merge_city_section(folder, root / "copies" / folder.name, resend_after_s=5, **_nodes(code, ports))
            hall = start_hall(root / "run" / folder.name, folder, root / "copies" / folder.name, start)
            halls.append(hall)
        env = {
            "HALLQ_CITY_DATABASE_URL": url,
            "HALLQ_CITY_CITY_ID": CITY,
            "HALLQ_CITY_CONSUMER": "amqp",
            "HALLQ_CITY_AMQP_URL": ",".join(cluster.amqp_urls),
            "HALLQ_CITY_ROLLUP_INTERVAL_S": "5",
        }
        ingest = IngestProcess(env, workers=2, log=root / "ingest.log")
        ingest.start()
        yield {"engine": engine, "cluster": cluster, "halls": halls, "ingest": ingest, "root": root}
    finally:
        if ingest is not None:
            ingest.stop()
        for hall in halls:
            hall.stop()
        cluster.stop()


def test_a_killed_cluster_node_and_a_killed_ingest_lose_nothing_and_store_nothing_twice(rig: dict) -> None:
    halls: list[Hall] = rig["halls"]
    cluster: RabbitCluster = rig["cluster"]
    with Traffic(halls):
        wait_until("first records at the city", lambda: all(city_counts(rig["engine"], h.code)[1] > 0 for h in halls),
                   90, lambda: rig_state(rig))  # fmt: skip
        cluster.kill(1)  # the first hall's node (and where ingest worker 1's AMQP connection is likely)
        killed_at = time.monotonic()
        served = {h.hall_id: h.served for h in halls}
        time.sleep(8)
        assert all(h.served > served[h.hall_id] for h in halls), "halls keep serving while a city node is down"
        rig["ingest"].kill9()
        rig["ingest"].start()
        held = {h.code: city_counts(rig["engine"], h.code)[1] for h in halls}
        # Whether records flow on the two remaining nodes is reported, not asserted: with RabbitMQ 3.10 the
        # MQTT plugin's client-id registry may refuse logins until it elects a new leader (seconds to
        # minutes on a loaded machine); what must hold is that nothing is lost or stored twice.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(
            city_counts(rig["engine"], h.code)[1] > held[h.code] for h in halls
        ):
            time.sleep(1)
        flowing = [h.hall_id for h in halls if city_counts(rig["engine"], h.code)[1] > held[h.code]]
        print(f"\nnode 1 down {time.monotonic() - killed_at:.1f} s; halls whose records reached the city meanwhile: "
              f"{flowing}; restarting node 1")  # fmt: skip
        cluster.start_node(1, timeout=300)  # a killed node waits for its peers before it boots
    wait_until("every hall's records at the city and every outbox drained", lambda: caught_up(rig), DRAIN_S,
               lambda: rig_state(rig))  # fmt: skip
    assert len(cluster.running_members()) == 3, "the restarted node rejoined the cluster"
    for hall in halls:
        per_stream, received, distinct, upto = city_counts(rig["engine"], hall.code)
        last = hall.last_seq()
        assert received == distinct == upto == last, rig_state(rig)
        assert per_stream == hall.spy.per_stream(), f"{hall.hall_id}: city {per_stream} ≠ hall {hall.spy.per_stream()}"
        assert set(hall.spy.seen) == set(range(1, last + 1))
        assert per_stream["visits"] == hall.visits() == hall.served
        assert hall.backlog() == 0
    with rig["engine"].connect() as conn:
        refused = conn.execute(text("SELECT hall, reason FROM rejected LIMIT 5")).all()
    assert not refused, f"a hall's own records were refused: {refused}"
    print("cluster fault test:", rig_state(rig))


def test_the_cluster_refuses_a_hall_writing_another_halls_topic(rig: dict) -> None:
    """RabbitMQ's topic permissions (generated from the same grant table) close the bridge's connection."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    cluster: RabbitCluster = rig["cluster"]
    account = cluster.account("bridge-0101")
    events: list[str] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bridge-0101-probe", protocol=mqtt.MQTTv311)
    client.username_pw_set(account.username, account.password)
    client.on_connect = lambda *a: events.append(f"connect {a[3]}")
    client.on_disconnect = lambda *a: events.append("disconnect")
    client.connect("127.0.0.1", cluster.mqtt_ports[1])
    client.loop_start()
    wait_until("connected", lambda: any(e.startswith("connect") for e in events), 10)
    before = city_counts(rig["engine"], "0102")[1]
    client.publish("hall/0102/sync/up/visits", b'{"hall": "0102", "seq": 999999}', qos=1)
    wait_until("the node closes the offending connection", lambda: "disconnect" in events, 10)
    client.loop_stop()
    stranger = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="stranger", protocol=mqtt.MQTTv311)
    stranger.username_pw_set("bridge-zzzz", "guess")
    answers: list[str] = []  # a refusing CONNACK, or the node closing the socket without one: both refuse
    stranger.on_connect = lambda *a: answers.append("refused" if a[3].is_failure else "accepted")
    stranger.on_disconnect = lambda *a: answers.append("closed")
    stranger.reconnect_delay_set(60, 60)  # one attempt: what the node answered to it
    stranger.connect("127.0.0.1", cluster.mqtt_ports[2])
    stranger.loop_start()
    wait_until("an answer to the unknown account", lambda: bool(answers), 30, lambda: str(answers))
    stranger.loop_stop()
    assert answers[0] in ("refused", "closed") and "accepted" not in answers
    time.sleep(1)
    assert city_counts(rig["engine"], "0102")[1] == before
    assert Path(rig["root"]).exists()
