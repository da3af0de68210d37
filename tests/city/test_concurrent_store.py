"""Several workers storing at once (threads, each with its own store and connections, as worker processes
would): overlapping resends and records in months with no partition yet — every (hall, seq) stored once,
each missing partition created once, the watermark complete, no deadlock surfaced."""

from __future__ import annotations

import random
import threading
from datetime import date

from sqlalchemy import Engine

from city.db import make_engine
from city.partitions import list_partitions
from city.store import BatchResult, Store
from hallcore.clock import ManualClock
from tests.city.conftest import count, evaluation, message, visit

MONTHS = (date(2026, 5, 12), date(2026, 6, 3), date(2026, 7, 21))  # none has a partition yet


def test_four_workers_store_overlapping_batches_once(
    city_url: str, city_engine: Engine, city_clock: ManualClock
) -> None:
    msgs = []
    for hall in ("0001", "0002"):
        for seq in range(1, 301):
            day = MONTHS[seq % 3]
            record = visit(seq, day=day) if seq % 4 else evaluation(seq)
            msgs.append(message(hall, seq, record))
    results: list[BatchResult] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def worker(n: int) -> None:
        engine = make_engine(city_url, pool_size=1, max_overflow=1)
        store = Store(engine, city_clock, past_days=400)
        mine = msgs[:]
        random.Random(n).shuffle(mine)  # every worker gets every message, in its own order
        start.wait()
        try:
            for i in range(0, len(mine), 40):
                results.append(store.ingest(mine[i : i + 40]))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert sum(r.stored for r in results) == 600
    assert sum(r.replays for r in results) == 3 * 600
    assert count(city_engine, "SELECT count(*) FROM received") == 600
    stored = count(city_engine, "SELECT count(*) FROM rec_visits") + count(
        city_engine, "SELECT count(*) FROM rec_evaluations"
    )
    assert stored == 600
    assert count(city_engine, "SELECT count(*) FROM hall_watermark WHERE upto = 300") == 2
    names = list_partitions(city_engine)
    for month in ("202605", "202606", "202607"):
        assert f"rec_visits_p{month}" in names
    created = [name for r in results for name in r.partitions_created]
    assert len(created) == len(set(created)), "each partition created by exactly one worker"
