"""The acker on a real PostgreSQL: workers that only insert (no watermark lock) and one leader that advances
the watermarks and acknowledges — every hall acknowledged up to its last contiguous seq, never backwards,
a hole waits, a replay is acknowledged again, and another acker takes over when the leader goes away."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from sqlalchemy import Engine

from city.acker import Acker
from city.db import make_engine
from city.store import Store
from hallcore.clock import ManualClock
from tests.city.conftest import count, message, visit

HALLS = ("0001", "0002", "0003")


class Running:
    """An acker on a thread of its own, recording what it publishes."""

    def __init__(self, url: str, clock: ManualClock) -> None:
        self.engine = make_engine(url, pool_size=1, max_overflow=1)
        self.acks: list[tuple[str, int]] = []
        self.acker = Acker(self.engine, clock, self._publish, scan_s=1.0, retry_s=0.2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.acker.run, args=(self.stop,), daemon=True)
        self.thread.start()

    def _publish(self, hall: str, upto: int, _ts: datetime) -> None:
        self.acks.append((hall, upto))

    def last(self, hall: str) -> int | None:
        mine = [upto for h, upto in self.acks if h == hall]
        return mine[-1] if mine else None

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        self.engine.dispose()


def _until(check: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def ackers(city_url: str, city_engine: Engine, city_clock: ManualClock) -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for a in started:
        a.close()


def test_two_inserting_workers_and_one_acker(
    city_url: str, city_engine: Engine, city_clock: ManualClock, ackers: list[Running]
) -> None:
    ackers += [Running(city_url, city_clock), Running(city_url, city_clock)]
    _until(lambda: any(a.acker.leading.is_set() for a in ackers))
    time.sleep(0.5)
    assert sum(a.acker.leading.is_set() for a in ackers) == 1, "exactly one acker leads"
    leader = next(a for a in ackers if a.acker.leading.is_set())
    msgs = [message(h, s, visit(s)) for h in HALLS for s in range(1, 201) if not (h == "0003" and s == 150)]
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        engine = make_engine(city_url, pool_size=1, max_overflow=1)
        store = Store(engine, city_clock, advance=False)
        mine = msgs[n::2]
        random.Random(n).shuffle(mine)
        try:
            for i in range(0, len(mine), 25):
                assert store.ingest(mine[i : i + 25]).acks == {}, "workers never acknowledge themselves"
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    _until(lambda: leader.last("0001") == 200 and leader.last("0002") == 200 and leader.last("0003") == 149)
    for hall in HALLS:
        seen = [upto for h, upto in leader.acks if h == hall]
        assert seen == sorted(seen), f"acks of {hall} went backwards: {seen}"
    assert count(city_engine, "SELECT upto FROM hall_watermark WHERE hall = '0003'") == 149, "the hole holds"
    assert count(city_engine, "SELECT max_seq FROM hall_watermark WHERE hall = '0003'") == 200
    assert not any(a.acks for a in ackers if a is not leader), "only the leader acknowledges"

    # A replay (the hall lost its ack) is acknowledged again; the hole filled, the watermark jumps.
    store = Store(city_engine, city_clock, advance=False)
    before = len(leader.acks)
    assert store.ingest([message("0001", 7, visit(7))]).replays == 1
    _until(lambda: len(leader.acks) > before)
    assert leader.acks[before:] == [("0001", 200)]
    store.ingest([message("0003", 150, visit(150))])
    _until(lambda: leader.last("0003") == 200)

    # The leader goes away (a worker killed): the other takes over and acknowledges what comes next.
    leader.close()
    other = next(a for a in ackers if a is not leader)
    _until(lambda: other.acker.leading.is_set())
    store.ingest([message("0002", 201, visit(201))])
    _until(lambda: other.last("0002") == 201)
    assert count(city_engine, "SELECT count(*) FROM received") == 601
