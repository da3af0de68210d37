"""The hall's seq under concurrent writers, on SQLite and PostgreSQL: unique, gapless, and a rolled-back
transaction gives its numbers back."""

from __future__ import annotations

import random
import threading
from datetime import timedelta

from sqlalchemy import Engine

from hallcore.complaints import ComplaintSubmit
from hallserver.db import session_scope
from hallserver.services import complaints
from hallserver.services.context import HallContext
from hallserver.sync import capture, outbox
from hallserver.sync.periodic import queue_snapshot
from tests.sync.helpers import CITY_KEY, last_seq, outbox_rows

WORKERS = 6
ROUNDS = 15


class Rollback(Exception):
    """Raised on purpose inside a transaction."""


def test_concurrent_writers_get_unique_gapless_seqs(engine: Engine, ctx: HallContext) -> None:
    capture.install(engine, ctx, CITY_KEY)
    committed: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        rng = random.Random(n)
        try:
            for _ in range(ROUNDS):
                try:
                    with session_scope(engine) as s:
                        if rng.random() < 0.5:  # through capture: a real complaint commit writes one record
                            cmd = ComplaintSubmit(kind="cannot_do", content="材料要求反复变化，办不成")
                            complaints.submit(s, ctx, cmd, channel="kiosk", by="kiosk-01")
                            made = 1
                        else:  # the periodic path: several records in one transaction
                            made = rng.randint(1, 3)
                            outbox.append(s, [queue_snapshot(s, ctx)] * made, ctx.now())
                        if rng.random() < 0.3:
                            raise Rollback
                except Rollback:
                    continue
                with lock:
                    committed.append(made)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    capture.uninstall(engine)
    assert not errors, errors
    total = sum(committed)
    seqs = [r.seq for r in outbox_rows(engine)]
    assert seqs == list(range(1, total + 1))  # unique and gapless: every rollback gave its numbers back
    assert last_seq(engine) == total


def test_prune_on_ack_keeps_the_counter(engine: Engine, ctx: HallContext) -> None:
    with session_scope(engine) as s:
        outbox.append(s, [queue_snapshot(s, ctx)] * 5, ctx.now())
    with session_scope(engine) as s:
        assert outbox.acknowledge(s, 3, ctx.now()) == 3
        b = outbox.backlog(s)
        assert (b.count, b.last_seq, b.acked_upto, b.by_stream) == (2, 5, 3, {"queue_snapshots": 2})
        assert b.oldest_at is not None and abs(b.oldest_at - ctx.now()) < timedelta(seconds=1)
    with session_scope(engine) as s:
        outbox.append(s, [queue_snapshot(s, ctx)], ctx.now())
    assert [r.seq for r in outbox_rows(engine)] == [4, 5, 6]  # numbers never restart after a prune
