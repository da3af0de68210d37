"""Issue 17's fault test on loopback: three halls (市级, 区县级, 街道) and the city — each hall with its own
Mosquitto bridged to the city Mosquitto, its own database and publisher; the city ingest (2 worker
processes) into PostgreSQL. Traffic at every hall the whole time; one hall's link is cut for a while; the
ingest is killed with -9 and restarted. Afterwards the city holds, per hall and per stream, exactly what the
hall produced, each (hall, seq) once, and every hall's outbox is drained.

How the link is cut: the city operator disables that hall's bridge account on the running city broker
(Mosquitto dynamic security `disableClient`): the broker drops the bridge at once and refuses it until it
is enabled again, while the other halls stay connected — the same thing a city does to suspend a hall,
and cheaper than a firewall (no root rules) or restarting the city broker (which would cut every hall).
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from broker.mosquitto import free_port
from city.broker import INGEST_USERNAME, CityBroker
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
    shared_dir,
    start_hall,
    wait_until,
    write_hall_dir,
)
from tests.conftest import _drop_database, _pg_admin

CUT_S = 12  # how long the one hall's link stays cut (traffic goes on meanwhile)
DRAIN_S = 120  # bound for everything to reach the city afterwards


@pytest.fixture(scope="module")
def city_db(postgres_url: str) -> Iterator[tuple[str, Engine]]:
    name = f"city_fault_{uuid.uuid4().hex[:8]}"
    _pg_admin(postgres_url, f'CREATE DATABASE "{name}"')
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    engine = make_engine(url)
    yield url, engine
    engine.dispose()
    _drop_database(postgres_url, name)


@pytest.fixture(scope="module")
def rig(city_db: tuple[str, Engine], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Provisioned city (registry, broker accounts, the halls' copies), the city broker and three halls."""
    url, engine = city_db
    root = tmp_path_factory.mktemp("city")
    port = free_port()
    endpoint = CityEndpoint(CITY, "127.0.0.1", port, tls=False)
    dirs = [
        write_hall_dir(root / "halls" / hid, code, hid, name, level, region) for code, hid, name, level, region in HALLS
    ]
    provision_halls(engine, endpoint, dirs, root / "city-secret", root / "copies", datetime.now(UTC))
    city_broker = CityBroker(
        CITY, registered_codes(engine), root / "city-secret", shared_dir("hallq-city-") / "b", port
    )
    city_broker.start()
    start = opening_day(datetime.now(UTC))
    halls: list[Hall] = []
    try:
        for folder in dirs:
            merge_city_section(folder, root / "copies" / folder.name, resend_after_s=5)
            halls.append(start_hall(root / "run" / folder.name, folder, root / "copies" / folder.name, start))
        env = {
            "HALLQ_CITY_DATABASE_URL": url,
            "HALLQ_CITY_CITY_ID": CITY,
            "HALLQ_CITY_BROKER_HOST": city_broker.host,
            "HALLQ_CITY_BROKER_PORT": str(port),
            "HALLQ_CITY_BROKER_USERNAME": INGEST_USERNAME,
            "HALLQ_CITY_BROKER_PASSWORD": city_broker.account(INGEST_USERNAME).password,
            "HALLQ_CITY_ROLLUP_INTERVAL_S": "5",
        }
        ingest = IngestProcess(env, workers=2, log=root / "ingest.log")
        ingest.start()
        yield {"engine": engine, "broker": city_broker, "halls": halls, "ingest": ingest, "root": root}
    finally:
        if "ingest" in locals():
            ingest.stop()
        for hall in halls:
            hall.stop()
        city_broker.stop()
        shutil.rmtree(city_broker.files.out_dir.parent, ignore_errors=True)


def test_a_cut_link_and_a_killed_ingest_lose_nothing_and_store_nothing_twice(rig: dict) -> None:
    halls: list[Hall] = rig["halls"]
    cut = halls[1]
    with Traffic(halls):
        wait_until("first records at the city", lambda: all(city_counts(rig["engine"], h.code)[1] > 0 for h in halls),
                   60, lambda: rig_state(rig))  # fmt: skip
        rig["broker"].suspend_hall(cut.code)
        wait_until("the cut hall sees its link down", lambda: cut.publisher.state == "down", 30, lambda: rig_state(rig))
        before = cut.last_seq()
        time.sleep(CUT_S / 2)
        rig["ingest"].kill9()
        time.sleep(2)
        rig["ingest"].start()
        time.sleep(CUT_S / 2)
        assert cut.last_seq() > before, "the cut hall keeps serving (and recording) while its link is down"
        rig["broker"].resume_hall(cut.code)
        wait_until("the cut hall's link back up", lambda: cut.publisher.state == "up", 60, lambda: rig_state(rig))
    wait_until("every hall's records at the city and every outbox drained", lambda: caught_up(rig), DRAIN_S,
               lambda: rig_state(rig))  # fmt: skip
    for hall in halls:
        per_stream, received, distinct, upto = city_counts(rig["engine"], hall.code)
        last = hall.last_seq()
        assert received == distinct == upto == last, rig_state(rig)
        assert per_stream == hall.spy.per_stream(), f"{hall.hall_id}: city {per_stream} ≠ hall {hall.spy.per_stream()}"
        assert len(hall.spy.seen) == last and set(hall.spy.seen) == set(range(1, last + 1))
        assert per_stream["visits"] == hall.visits() == hall.served
        assert per_stream["evaluations"] == hall.evaluations()
        assert hall.backlog() == 0
    with rig["engine"].connect() as conn:
        refused = conn.execute(text("SELECT hall, reason FROM rejected LIMIT 5")).all()
    assert not refused, f"a hall's own records were refused: {refused}"
    print("\nfault test:", rig_state(rig))
