"""While the city database is unreachable a worker keeps its batch: nothing is settled with the broker and
no ack goes to the hall until the records are committed; then both happen, once."""

from __future__ import annotations

import threading
import time
from datetime import datetime

from sqlalchemy import Engine

from city.consumers.base import Consumer, Delivery
from city.db import make_engine
from city.ingest import handle
from city.partitions import Partitions
from city.registry import KnownHalls
from city.store import Store
from hallcore.clock import ManualClock
from tests.city.conftest import count, message, visit


class Recorder(Consumer):
    """A transport that records what the worker tells it (the broker side is not under test here)."""

    def __init__(self) -> None:
        self.acks: list[tuple[str, int]] = []
        self.settled: list[Delivery] = []

    def connect(self) -> None:
        pass

    def take(self, max_n: int, max_wait_s: float) -> list[Delivery]:
        return []

    def settle(self, deliveries: list[Delivery]) -> None:
        self.settled.extend(deliveries)

    def acknowledge(self, hall: str, upto: int, ts: datetime) -> None:
        self.acks.append((hall, upto))

    def close(self) -> None:
        pass


def test_a_database_outage_holds_the_batch_until_it_is_back(city_engine: Engine, city_clock: ManualClock) -> None:
    down = make_engine("postgresql+psycopg://hallq@127.0.0.1:1/none", connect_args={"connect_timeout": 2})
    store = Store(down, city_clock, known=KnownHalls(down))
    store.partitions = Partitions(down)
    consumer = Recorder()
    batch = [Delivery(message("0001", n, visit(n)), n) for n in (1, 2, 3)]
    stop = threading.Event()
    outcome: list[object] = []
    worker = threading.Thread(target=lambda: outcome.append(handle(consumer, store, batch, city_clock, stop)))
    worker.start()
    time.sleep(1.5)  # a few retries against the dead address
    assert worker.is_alive(), "the worker waits for the database instead of dropping the batch"
    assert consumer.settled == [] and consumer.acks == []
    store.engine, store.known, store.partitions = city_engine, KnownHalls(city_engine), Partitions(city_engine)
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert consumer.acks == [("0001", 3)]
    assert [d.handle for d in consumer.settled] == [1, 2, 3]
    assert count(city_engine, "SELECT count(*) FROM rec_visits") == 3
    down.dispose()
