"""The ticket path as plain SQL (services/ticket_rows.py) and publishing off the request worker: the plain path
tells each citizen the same people ahead as the ORM's reading of the line, a fault after its first write leaves
nothing behind, a reader never waits for the writer, and a slow listener of the publisher never holds up a
reply."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func
from sqlmodel import select

from hallcore.commands import IssueTicket
from hallserver.db import read_scope, session_scope
from hallserver.gateway.requests import RequestJob
from hallserver.models import Priority, Ticket
from hallserver.services import estimates, ticket_rows, tickets
from hallserver.services.context import HallContext
from tests.gateway.fixtures import Bus
from tests.gateway.test_gateway import ticket_request
from tests.integration.helpers import command, id_number

# (group, priority, person, minutes the clock moves first): same-instant tickets (0) test the tie on the queue key.
MIX = [
    ("police", "normal", 1, 0),
    ("police", "normal", 2, 0),
    ("police", "green", 3, 1),
    ("police", "appointment", 4, 0),
    ("social", "normal", 5, 0),
    ("police", "normal", 6, 2),
    ("police", "green", 7, 0),
    ("police", "appointment", 8, 1),
    ("police", "normal", 9, 0),
    ("social", "green", 10, 0),
]


def _command(ctx: HallContext, group: str, priority: str, person: int) -> IssueTicket:
    extra: dict = {}
    if priority == "green":
        extra = {"priority": Priority.green, "priority_reason": "老年人"}
    if priority == "appointment":
        extra = {"priority": Priority.appointment, "appointment_at": ctx.now() + timedelta(minutes=5)}
    return command(group=group, id_number=id_number(person), name="张小三", **extra)


def test_people_ahead_match_the_orm_reading_of_the_line(engine: Engine, ctx: HallContext) -> None:
    told, counted = [], []
    for group, priority, person, minutes in MIX:
        ctx.clock.advance(minutes=minutes)  # type: ignore[attr-defined]
        with session_scope(engine) as s:
            issued = tickets.issue(s, ctx, _command(ctx, group, priority, person))
            assert issued.ticket.priority == priority
            told.append(issued.waiting_ahead)
            counted.append(tickets.waiting_ahead(s, s.get(Ticket, issued.ticket.id)))  # type: ignore[arg-type]
    assert told == counted
    assert told == [0, 1, 0, 1, 0, 4, 1, 3, 7, 0]  # green before bookings before walk-ins, each in its order
    with session_scope(engine) as s:
        names = s.exec(select(Ticket.masked_name).where(Ticket.identity_hash.is_not(None))).all()  # type: ignore[union-attr]
    assert set(names) == {"张*三"}  # only the masked name on the ticket


def test_a_fault_after_the_first_write_leaves_nothing_behind(
    engine: Engine, ctx: HallContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    wait_for = estimates.wait_for

    def broken(session: object, ctx_: object, group: object, ahead: int, *rest: object) -> int | None:
        if getattr(group, "code", None) == "police":
            raise RuntimeError("estimate failed")
        return wait_for(session, ctx_, group, ahead, *rest)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(estimates, "wait_for", broken)  # fails after the person, counter, ticket and event rows
        if engine.dialect.name == "postgresql":
            # No savepoint round trips on PostgreSQL: the whole transaction is given up (the gateway then answers
            # the batch `unavailable` and the kiosks retry).
            with pytest.raises(ticket_rows.PlainWriteFailed), session_scope(engine) as s, ticket_rows.savepoint(s):
                tickets.issue(s, ctx, command(group="police", id_number=id_number(1)))
        else:
            with session_scope(engine) as s:  # SQLite: the savepoint undoes this request alone
                with pytest.raises(RuntimeError), ticket_rows.savepoint(s):
                    tickets.issue(s, ctx, command(group="police", id_number=id_number(1)))
                with ticket_rows.savepoint(s):
                    tickets.issue(s, ctx, command(group="social", id_number=id_number(2)))
    with session_scope(engine) as s, ticket_rows.savepoint(s):
        again = tickets.issue(s, ctx, command(group="police", id_number=id_number(1)))
    assert again.ticket.number == "A001"  # the failed attempt's number was given back, and no limit was used
    with session_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(Ticket).where(Ticket.group_code == "police")).one() == 1


def test_a_reader_never_waits_for_the_writer(engine: Engine, ctx: HallContext) -> None:
    with read_scope(engine) as reader:
        assert reader.exec(select(func.count()).select_from(Ticket)).one() == 0
        done = threading.Event()

        def write() -> None:
            with session_scope(engine) as s:
                tickets.issue(s, ctx, command(group="consult"))
            done.set()

        writer = threading.Thread(target=write)
        writer.start()
        assert done.wait(20), "the writer waited for a reader"
        writer.join()


def test_a_slow_listener_of_the_publisher_never_holds_up_a_reply(bus: Bus) -> None:
    gate = threading.Event()
    heard: list[object] = []

    def slow(kind: str, detail: object) -> None:
        if kind == "effects":
            heard.append(detail)
            gate.wait(30)  # e.g. a live-floor listener stuck on something

    bus.gateway.publisher.subscribe(slow)
    kiosk, _ = bus.device("kiosk-01")
    try:
        first = kiosk.request("ticket.issue", ticket_request("kiosk-01", group="consult"), timeout_s=10, attempts=1)
        deadline = time.monotonic() + 10
        while not heard and time.monotonic() < deadline:
            time.sleep(0.01)
        assert heard, "the publisher never told its listeners"
        # The publishing thread is now stuck in the listener; the worker still answers.
        second = kiosk.request("ticket.issue", ticket_request("kiosk-01", group="consult"), timeout_s=10, attempts=1)
        assert (first.status, second.status) == ("ok", "ok")
        assert not gate.is_set() and len(heard) == 1  # the listener still holds the first ticket's news
    finally:
        gate.set()
    bus.gateway.drain()
    assert len(heard) == 2  # nothing was dropped: the second ticket's news came after the first


def test_the_stored_reply_lookup_is_point_lookups_in_the_request_log(bus: Bus, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, dict]] = []
    plain_run = ticket_rows.run

    def record(session: object, statement: str, **params: object) -> object:
        if "FROM request_log" in statement:
            seen.append((statement, dict(params)))
        return plain_run(session, statement, **params)  # type: ignore[arg-type]

    monkeypatch.setattr(ticket_rows, "run", record)
    jobs = []
    for device in ("kiosk-01", "kiosk-02"):
        for _ in range(3):
            request = ticket_request(device, group="consult")
            jobs.append(RequestJob(bus.gateway, bus.topics.request(device, "ticket.issue"), request.to_json()))
    bus.gateway._handle_batch(jobs)
    bus.gateway._handle_batch(jobs[:2])  # retries: answered from the log
    assert len(seen) == 2
    engine = bus.gateway.engine
    with engine.connect() as conn:
        statement, params = seen[-1]
        sql, bound = ticket_rows.for_driver(engine.dialect, statement, params)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        plan = " ".join(row[3] for row in cursor.execute("EXPLAIN QUERY PLAN " + sql, bound).fetchall())
    assert "SEARCH request_log USING" in plan and "SCAN request_log" not in plan, plan
    with session_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(Ticket)).one() == 6  # the retries made no ticket
