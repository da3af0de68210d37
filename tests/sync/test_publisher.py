"""The publisher on real brokers: outbox → hall broker → bridge → city, in seq order; the city's ack prunes;
unacknowledged records go again after the resend timeout; while the bridge is down nothing is sent and
everything unacknowledged goes when it is back."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from hallcore.clock import ManualClock
from hallserver.db import make_engine, session_scope
from hallserver.services import windows
from hallserver.services.context import HallContext
from hallserver.sync import capture
from hallserver.sync.link import BrokerLogin, LinkState, Publisher
from tests.conftest import fresh_sqlite
from tests.sync.city_ingest import FakeIngest
from tests.sync.helpers import CITY_KEY, last_seq, outbox_rows, serve
from tests.sync.rig import CityRig, city_rig


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CityRig]:
    with city_rig(tmp_path_factory.mktemp("publisher") / "secret") as running:
        yield running


@pytest.fixture
def linked(
    rig: CityRig, ctx: HallContext, sqlite_template: Path, tmp_path: Path
) -> Iterator[tuple[Engine, Publisher, FakeIngest]]:
    """A hall database with capture, its publisher connected to the rig's hall broker, the city's ingest."""
    engine = make_engine(fresh_sqlite(sqlite_template, tmp_path))
    with session_scope(engine) as s:
        windows.sync_windows(s, ctx.profile, ctx.now())
    wake = capture.install(engine, ctx, CITY_KEY).wake
    account = rig.hall.server_account()
    assert rig.profile.city is not None
    publisher = Publisher(
        ctx,
        engine,
        rig.profile.city,
        BrokerLogin(rig.hall.host, rig.hall.port, account.username, account.password),
        wake,
    )
    ingest = FakeIngest(rig)
    publisher.start()
    _until(lambda: publisher.connected and publisher.state == LinkState.up, "the bridge reported up")
    yield engine, publisher, ingest
    publisher.stop()
    ingest.close()
    capture.uninstall(engine)
    engine.dispose()


def _until(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


def test_records_reach_the_city_in_order_and_the_ack_prunes(
    linked: tuple[Engine, Publisher, FakeIngest], ctx: HallContext
) -> None:
    engine, _publisher, ingest = linked
    for seed in (1, 2, 3):
        serve(engine, ctx, seed)
    got = ingest.take(6)
    assert [e.seq for e in got] == [1, 2, 3, 4, 5, 6]
    assert [e.kind for e in got[:2]] == ["visit.finished", "case.status"]
    ingest.ack(4)
    _until(lambda: [r.seq for r in outbox_rows(engine)] == [5, 6], "seq ≤ 4 were pruned")
    ingest.ack(6)
    _until(lambda: outbox_rows(engine) == [], "the outbox drained")
    assert last_seq(engine) == 6 and ingest.quiet(0.5) == []  # nothing sent twice without cause


def test_unacknowledged_records_are_resent_after_the_timeout(
    linked: tuple[Engine, Publisher, FakeIngest], ctx: HallContext, clock: ManualClock
) -> None:
    engine, publisher, ingest = linked
    serve(engine, ctx, 4)
    assert [e.seq for e in ingest.take(2)] == [1, 2]
    assert ingest.quiet(1.5) == []  # within the timeout: no resend
    clock.advance(seconds=31)  # past resend_after_s (30)
    publisher.wake.set()
    assert [e.seq for e in ingest.take(2)] == [1, 2]  # the same records again (the city stores them once)
    assert {r.attempts for r in outbox_rows(engine)} == {2}
    ingest.ack(2)
    _until(lambda: outbox_rows(engine) == [], "the outbox drained")


def test_an_ack_beyond_what_the_hall_wrote_moves_nothing(
    linked: tuple[Engine, Publisher, FakeIngest], ctx: HallContext
) -> None:
    engine, _publisher, ingest = linked
    serve(engine, ctx, 5)
    ingest.take(2)
    ingest.ack(99)  # a confused city
    ingest.ack(1)
    _until(lambda: [r.seq for r in outbox_rows(engine)] == [2], "only seq 1 was pruned")


def test_while_the_bridge_is_down_records_wait_and_then_all_go(
    linked: tuple[Engine, Publisher, FakeIngest], rig: CityRig, ctx: HallContext
) -> None:
    engine, publisher, ingest = linked
    serve(engine, ctx, 6)
    assert [e.seq for e in ingest.take(2)] == [1, 2]  # sent, never acknowledged
    ingest.close()
    rig.city.stop()
    try:
        _until(lambda: publisher.state == LinkState.down, "the bridge reported down")
        serve(engine, ctx, 7)
        time.sleep(1.5)
        assert [r.sent_at for r in outbox_rows(engine)][2:] == [None, None]  # held back while down
    finally:
        rig.city.start()
    ingest = FakeIngest(rig)  # listening before the bridge is back (it retries after 2 s)
    _until(lambda: publisher.state == LinkState.up, "the bridge reported up again", timeout=40)
    try:
        got = ingest.take(4, timeout=30)
        assert sorted(e.seq for e in got) == [1, 2, 3, 4]  # the unacknowledged ones again, then the new ones
        ingest.ack(4)
        _until(lambda: outbox_rows(engine) == [], "the outbox drained")
    finally:
        ingest.close()
