"""What the server keeps between requests (window capacity, recent service times) follows every change at
once, on both backends; and the ticket path's queries use the indexes made for them (no scan of the day)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from hallcore.clock import ManualClock
from hallcore.commands import Outcome
from hallserver.models import WindowStatus
from hallserver.services import estimates, ticket_rows, windows
from hallserver.services.context import HallContext
from tests.integration.helpers import id_number, issue, tx


def capacity(engine: Engine) -> dict[str, float]:
    return tx(engine, estimates.window_capacity)


def test_capacity_follows_a_paused_window_at_once(engine: Engine, ctx: HallContext) -> None:
    before = capacity(engine)
    assert capacity(engine) == before  # from the cache now
    groups = tx(engine, lambda s: windows.window_groups(s, "w01"))
    tx(engine, lambda s: windows.set_status(s, ctx, "w01", WindowStatus.paused))
    paused = capacity(engine)
    for group in groups:
        assert paused[group] == pytest.approx(before[group] - 1 / len(groups))
    tx(engine, lambda s: windows.set_status(s, ctx, "w01", WindowStatus.open))
    assert capacity(engine) == pytest.approx(before)


def test_capacity_follows_new_groups_and_the_writer_sees_its_own_change(engine: Engine, ctx: HallContext) -> None:
    before = capacity(engine)

    class Undo(Exception):
        pass

    def change_then_read(s):  # type: ignore[no-untyped-def]
        windows.set_groups(s, ctx, "w19", ["complaint"])  # DELETE + INSERT on window_group
        inside = estimates.window_capacity(s)
        assert inside["complaint"] > before.get("complaint", 0.0)  # its own uncommitted change
        raise Undo

    with pytest.raises(Undo):
        tx(engine, change_then_read)
    assert capacity(engine) == pytest.approx(before)  # rolled back: the old value, not the writer's
    tx(engine, lambda s: windows.set_groups(s, ctx, "w19", ["complaint"]))
    assert capacity(engine)["complaint"] > before.get("complaint", 0.0)


def test_service_time_follows_a_finished_visit(engine: Engine, ctx: HallContext, clock: ManualClock) -> None:
    police = ctx.group("police")
    assert tx(engine, lambda s: estimates.mean_service_minutes(s, ctx, police)) == police.default_service_minutes
    for window in ("w02", "w03", "w04", "w05", "w06", "w19", "w20"):  # w01 alone calls police
        tx(engine, lambda s, w=window: windows.set_status(s, ctx, w, WindowStatus.paused))
    issue(engine, ctx, group="police", id_number=id_number(1))
    tx(engine, lambda s: windows.call_next(s, ctx, "w01"))
    tx(engine, lambda s: windows.start(s, ctx, "w01"))
    clock.advance(minutes=33)
    tx(engine, lambda s: windows.finish(s, ctx, "w01", Outcome.consulted))
    assert tx(engine, lambda s: estimates.mean_service_minutes(s, ctx, police)) == pytest.approx(33)


def test_the_ticket_path_reads_through_its_indexes(sqlite_template: object, tmp_path: object, ctx: HallContext) -> None:
    from hallserver.db import make_engine
    from tests.conftest import fresh_sqlite

    engine = make_engine(fresh_sqlite(sqlite_template, tmp_path))  # type: ignore[arg-type]
    tx(engine, lambda s: windows.sync_windows(s, ctx.profile, ctx.now()))
    for n in range(30):
        issue(engine, ctx, group="police", id_number=id_number(n))
    seen: list[tuple[str, dict]] = []
    plain_run = ticket_rows.run

    def record(session: object, statement: str, **params: object) -> object:
        if statement.lstrip().startswith("SELECT") and "FROM ticket" in statement:
            seen.append((statement, dict(params)))
        return plain_run(session, statement, **params)  # type: ignore[arg-type]

    ticket_rows.run = record  # type: ignore[assignment]  # the issue path's own statements, as it sends them
    try:
        issue(engine, ctx, group="police", id_number=id_number(99))
    finally:
        ticket_rows.run = plain_run  # type: ignore[assignment]
    plans = {}
    with engine.connect() as conn:
        for statement, params in seen:
            sql, bound = ticket_rows.for_driver(engine.dialect, statement, params)
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            plan = " ".join(row[3] for row in cursor.execute("EXPLAIN QUERY PLAN " + sql, bound).fetchall())
            plans[statement] = plan
    person = [p for s, p in plans.items() if "identity_hash = :id_hash" in s]
    line = [p for s, p in plans.items() if "count(*)" in s and "state = 'waiting'" in s]
    assert person and all("ix_ticket_person_day" in p for p in person), plans
    # The people ahead of a normal ticket: one statement, both of its counts searched in an index of the line
    # (the whole line's count is covered: ix_ticket_line or another line index, whichever SQLite picks).
    assert len(line) == 1 and line[0].count("SEARCH ticket USING") == 2, plans
    assert line[0].count("(service_date=? AND group_code=? AND state=?") == 2, plans
    assert not [p for p in plans.values() if "SCAN ticket" in p], plans
    engine.dispose()
