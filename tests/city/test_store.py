"""The store on a real PostgreSQL: each (hall, seq) stored once under replays, the watermark waits for a
hole, refused records are logged (never their content) and acknowledged only when held, partitions appear."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Engine, text

from city.partitions import list_partitions
from city.store import Incoming, Store
from tests.city.conftest import NOW, SHANGHAI, count, evaluation, health, message, queue_snapshot, visit


def test_each_record_is_stored_once_and_acknowledged(store: Store, city_engine: Engine) -> None:
    batch = [message("0001", n, visit(n)) for n in range(1, 6)]
    first = store.ingest(batch)
    assert (first.stored, first.replays, first.rejected) == (5, 0, 0)
    assert first.acks == {"0001": 5}
    again = store.ingest(batch + batch[:2])  # a resend after a lost ack, twice over
    assert (again.stored, again.replays) == (0, 7)
    assert again.acks == {"0001": 5}, "a replay is still acknowledged, so the hall can prune"
    assert count(city_engine, "SELECT count(*) FROM rec_visits") == 5
    assert count(city_engine, "SELECT count(*) FROM received") == 5


def test_the_watermark_waits_for_a_hole(store: Store, city_engine: Engine) -> None:
    assert store.ingest([message("0002", n, visit(n)) for n in (1, 2, 4, 5)]).acks == {"0002": 2}
    assert count(city_engine, "SELECT max_seq FROM hall_watermark WHERE hall = '0002'") == 5
    assert count(city_engine, "SELECT count(*) FROM rec_visits WHERE hall = '0002'") == 4, "stored as they come"
    assert store.ingest([message("0002", 3, visit(3))]).acks == {"0002": 5}, "the hole filled: upto jumps"


def test_refused_messages_are_logged_without_their_content(store: Store, city_engine: Engine) -> None:
    good = message("0001", 1, visit(1))
    bad = [
        message("0009", 1, visit(1)),  # a code the city never assigned
        message("0001", 2, visit(2), topic_hall="0002"),  # a hall writing under another hall's topic
        Incoming("hall/0001/sync/up/visits", b'{"hall": "0001", "seq": 3, "ts": "x"'),  # broken JSON
        Incoming("hall/0001/sync/up/visits", message("0001", 4, evaluation(4)).payload),  # wrong stream
        message("0001", 5, visit(5, day=date(2020, 1, 6))),  # from a hall whose clock ran wild
    ]
    result = store.ingest([good, *bad])
    assert (result.stored, result.rejected) == (1, 5)
    assert result.acks == {"0001": 1}, "nothing refused is acknowledged: the hall keeps it"
    with city_engine.connect() as conn:
        rows = conn.execute(text("SELECT topic, hall, seq, reason FROM rejected ORDER BY id")).all()
    reasons = [r.reason for r in rows]
    assert "not assigned" in reasons[0] and rows[0].hall == "0009"
    assert "differs from the topic" in reasons[1] and rows[1].seq == 2
    assert reasons[2].startswith("malformed") and rows[2].seq is None
    assert "does not belong to stream" in reasons[3] and rows[3].seq == 4
    assert "out of range" in reasons[4]
    dump = str(rows)
    assert "市公安局" not in dump and "A001" not in dump, "the log never holds the record's content"
    assert count(city_engine, "SELECT count(*) FROM received") == 1


def test_live_state_keeps_the_newest_snapshot(store: Store, city_engine: Engine) -> None:
    older, newer = NOW - timedelta(minutes=5), NOW
    store.ingest([message("0001", 2, queue_snapshot(at=newer, waiting=7)), message("0001", 3, health(offline=2))])
    store.ingest([message("0001", 1, queue_snapshot(at=older, waiting=30))])  # late arrival of an older one
    with city_engine.connect() as conn:
        live = conn.execute(text("SELECT * FROM hall_live WHERE hall = '0001'")).one()
    assert (live.waiting, live.devices_offline, live.problems) == (7, 2, ["printer-02"])


def test_partitions_are_created_on_demand(store: Store, city_engine: Engine) -> None:
    old = datetime(2026, 3, 15, 10, 0, tzinfo=SHANGHAI)
    store.ingest([message("0001", 1, visit(1, day=old.date())), message("0001", 2, evaluation(2, at=old))])
    names = list_partitions(city_engine)
    assert "rec_visits_p202603" in names and "rec_evaluations_p202603" in names
    assert count(city_engine, "SELECT count(*) FROM rec_visits_p202603") == 1


def test_a_long_run_behind_a_hole_is_acknowledged_once_it_fills(store: Store) -> None:
    late = [message("0003", seq, queue_snapshot(waiting=seq % 50)) for seq in range(2, 2602)]
    for i in range(0, len(late), 500):
        assert store.ingest(late[i : i + 500]).acks == {"0003": 0}
    assert store.ingest([message("0003", 1, queue_snapshot())]).acks == {"0003": 2601}, "walks past one page"


def test_migrations_go_down_and_up_again(city_url: str) -> None:
    from city.db import downgrade, upgrade

    downgrade(city_url, "base")
    upgrade(city_url)


def test_a_refused_record_resent_is_counted_not_logged_again(store: Store, city_engine: Engine) -> None:
    bad = message("0001", 7, visit(7), topic_hall="0002")
    store.ingest([bad, bad])
    store.ingest([bad])
    with city_engine.connect() as conn:
        rows = conn.execute(text("SELECT hall, seq, times FROM rejected")).all()
    assert [tuple(r) for r in rows] == [("0002", 7, 3)]
