"""The ingest end to end on a real city Mosquitto (H4's generated accounts and ACL) and a real PostgreSQL:
two workers share `$share/ingest/hall/+/sync/up/+`; resends and out-of-order records are stored once, the
watermark waits for holes, each hall gets its ack; bad input is refused and logged while the ingest goes
on; records published while every worker is down arrive when they come back (persistent sessions)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from broker.mosquitto import free_port
from city.broker import INGEST_USERNAME, CityBroker, bridge_username
from city.consumers.mqtt import MqttConsumer
from city.ingest import Totals, run_worker
from city.settings import CitySettings
from hallcore.clock import ManualClock
from tests.bus.fixtures import Probe
from tests.city.conftest import count, message, visit

CODES = ("0001", "0002", "0003", "0004")  # 0004 has a broker account but the city registry never assigned it


@pytest.fixture
def city_broker(tmp_path: Path, broker_dir: Path) -> Iterator[CityBroker]:
    """The city's Mosquitto with bridge accounts for CODES and the ingest account."""
    with CityBroker("demo-city", CODES, tmp_path / "secret", broker_dir, free_port()) as running:
        yield running


class Workers:
    """Ingest workers on threads (each its own MQTT session and database pool), started and stopped at will."""

    def __init__(self, settings: CitySettings, clock: ManualClock) -> None:
        self.settings, self.clock = settings, clock
        self.running: list[tuple[threading.Thread, threading.Event]] = []
        self.totals: dict[int, Totals] = {}

    def start(self, *ids: int) -> None:
        for worker in ids:
            stop = threading.Event()
            consumer = MqttConsumer(self.settings, worker)

            def run(w: int = worker, s: threading.Event = stop, c: MqttConsumer = consumer) -> None:
                self.totals[w] = run_worker(self.settings, w, s, clock=self.clock, consumer=c)

            thread = threading.Thread(target=run, name=f"ingest-{worker}", daemon=True)
            thread.start()
            self.running.append((thread, stop))
            assert consumer.wait_subscribed(10), f"worker {worker} did not subscribe"

    def stop(self) -> None:
        for _thread, stop in self.running:
            stop.set()
        for thread, _ in self.running:
            thread.join(timeout=15)
        self.running.clear()


@pytest.fixture
def workers(city_broker: CityBroker, city_url: str, city_engine: Engine, city_clock: ManualClock) -> Iterator[Workers]:
    """Two ingest workers on the city broker and database (call .start(1, 2))."""
    settings = CitySettings(
        database_url=city_url,
        broker_host=city_broker.host,
        broker_port=city_broker.port,
        broker_username=INGEST_USERNAME,
        broker_password=city_broker.account(INGEST_USERNAME).password,
        batch_size=50,
        batch_wait_s=0.02,
    )
    pool = Workers(settings, city_clock)
    yield pool
    pool.stop()


def _hall(broker: CityBroker, code: str) -> Probe:
    account = broker.account(bridge_username(code))
    probe = Probe(broker, account.username, account.password, client_id=f"test-bridge-{code.lower()}")  # type: ignore[arg-type]
    assert probe.connect() == 0
    assert probe.subscribe(f"hall/{code}/sync/ack") == 1
    return probe


def _wait(what: str, check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _last_ack(probe: Probe, upto: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    seen = -1
    while seen != upto:
        assert time.monotonic() < deadline, f"no ack upto={upto} (last {seen})"
        msg = probe.messages.get(timeout=max(deadline - time.monotonic(), 0.1))
        seen = json.loads(msg.payload)["upto"]


def test_two_workers_store_each_record_once_and_ack_every_hall(
    city_broker: CityBroker, workers: Workers, city_engine: Engine
) -> None:
    workers.start(1, 2)
    one, two = _hall(city_broker, "0001"), _hall(city_broker, "0002")
    order = list(range(1, 201))
    order[10:20] = reversed(order[10:20])  # out of order
    for seq in order + list(range(1, 51)):  # and the first 50 resent, as after a lost ack
        assert one.publish(message("0001", seq, visit(seq)).topic, message("0001", seq, visit(seq)).payload) == 0
    for seq in range(1, 101):
        msg = message("0002", seq, visit(seq))
        assert two.publish(msg.topic, msg.payload) == 0
    _wait("300 records", lambda: count(city_engine, "SELECT count(*) FROM received") == 300)
    _last_ack(one, 200)
    _last_ack(two, 100)
    assert count(city_engine, "SELECT count(*) FROM rec_visits") == 300, "nothing stored twice"
    assert count(city_engine, "SELECT upto FROM hall_watermark WHERE hall = '0001'") == 200
    workers.stop()
    assert all(t.stored > 0 for t in workers.totals.values()), f"both workers took a share: {workers.totals}"
    assert sum(t.stored for t in workers.totals.values()) == 300
    assert sum(t.replays for t in workers.totals.values()) == 50
    one.close()
    two.close()


def test_bad_input_is_refused_and_logged_and_the_ingest_goes_on(
    city_broker: CityBroker, workers: Workers, city_engine: Engine
) -> None:
    workers.start(1, 2)
    one, four = _hall(city_broker, "0001"), _hall(city_broker, "0004")
    assert one.publish("hall/0001/sync/up/visits", b"\xff not json") == 0
    assert one.publish("hall/0001/sync/up/visits", message("0002", 1, visit(1)).payload) == 0  # claims hall 0002
    unknown = message("0004", 1, visit(1))
    assert four.publish(unknown.topic, unknown.payload) == 0  # an account the registry never assigned
    assert one.publish("hall/0002/sync/up/visits", message("0002", 1, visit(1)).payload) == 135, "ACL: not its topic"
    good = message("0001", 1, visit(1))
    assert one.publish(good.topic, good.payload) == 0
    _wait("the good record", lambda: count(city_engine, "SELECT count(*) FROM rec_visits") == 1)
    _wait("three refusals", lambda: count(city_engine, "SELECT count(*) FROM rejected") == 3)
    _last_ack(one, 1)
    with city_engine.connect() as conn:
        reasons = sorted(conn.execute(text("SELECT hall || ': ' || reason FROM rejected")).scalars())
    assert reasons[0].startswith("0001: envelope hall 0002 differs")
    assert reasons[1].startswith("0001: malformed")
    assert reasons[2] == "0004: hall code not assigned by the city"
    assert four.messages.empty(), "a hall the city does not know gets no ack"
    one.close()
    four.close()


def test_records_sent_while_every_worker_is_down_arrive_after_restart(
    city_broker: CityBroker, workers: Workers, city_engine: Engine
) -> None:
    workers.start(1, 2)
    one = _hall(city_broker, "0001")
    first = message("0001", 1, visit(1))
    assert one.publish(first.topic, first.payload) == 0
    _wait("the first record", lambda: count(city_engine, "SELECT count(*) FROM received") == 1)
    workers.stop()  # both sessions stay on the broker (clean_start false, session expiry)
    for seq in range(2, 61):
        msg = message("0001", seq, visit(seq))
        assert one.publish(msg.topic, msg.payload) == 0
    time.sleep(0.3)
    assert count(city_engine, "SELECT count(*) FROM received") == 1
    workers.start(1, 2)
    _wait("the 59 queued records", lambda: count(city_engine, "SELECT count(*) FROM received") == 60)
    assert count(city_engine, "SELECT upto FROM hall_watermark WHERE hall = '0001'") == 60
    one.close()
