"""The ticket issue path's reads and writes as plain SQL: each statement is written once per dialect and sent
straight to the driver on the session's connection (sqlite3 and psycopg keep them prepared), with no ORM
objects, no unit of work and no statement compilation per ticket.

Only rows no other part of the server watches are written here: a new waiting ticket, its `issue` event, the
day's counter and the person's row. None of them produces a city record (the outbox captures finished
visits, cases, evaluations, rectifications and complaints through the ORM session), and none of them
changes a value read_cache keeps, so they bypass the engine's cursor events."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from hallcore.errors import HallError
from hallserver.models import Person, Ticket

_NAMED = re.compile(r":(\w+)")

COUNTER = """
INSERT INTO ticket_counter (series, service_date, last) VALUES (:series, :day, 1)
ON CONFLICT (series, service_date) DO UPDATE SET last = ticket_counter.last + 1
RETURNING last"""

# One person's tickets of the day, through ix_ticket_person_day (the real-name limits).
PERSON_DAY = """
SELECT number, group_code, state FROM ticket
WHERE identity_hash = :id_hash AND service_date = :day ORDER BY id"""

PERSON_ADVISORY_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended(:lock_key, 19))"

# Insert-or-nothing when no name is given; with a name, both values are sealed afresh under the current key
# (the number is in hand), so a row never holds values under two keys and no read is needed.
PERSON_KEEP = """
INSERT INTO person (id_hash, id_kind, masked_id, key_id, id_cipher, created_at)
VALUES (:id_hash, :id_kind, :masked_id, :key_id, :id_cipher, :created_at)
ON CONFLICT (id_hash) DO NOTHING"""
PERSON_NAMED = """
INSERT INTO person (id_hash, id_kind, masked_id, key_id, id_cipher, name_cipher, masked_name, created_at)
VALUES (:id_hash, :id_kind, :masked_id, :key_id, :id_cipher, :name_cipher, :masked_name, :created_at)
ON CONFLICT (id_hash) DO UPDATE SET key_id = excluded.key_id, id_cipher = excluded.id_cipher,
    name_cipher = excluded.name_cipher, masked_name = excluded.masked_name"""

_TICKET = """
INSERT INTO ticket (number, series, seq, service_date, group_code, item_code, priority, channel, state,
    identity_hash, masked_name, issued_at, queue_key, appointment_at, call_count, note, public_token)
VALUES (:number, :series, :seq, :service_date, :group_code, :item_code, :priority, :channel, 'waiting',
    :identity_hash, :masked_name, :issued_at, :queue_key, :appointment_at, 0, :note, :public_token)"""
TICKET = _TICKET + " RETURNING id"

EVENT = """
INSERT INTO ticket_event (ticket_id, at, action, from_state, to_state, group_code, detail)
VALUES (:ticket_id, :at, 'issue', NULL, 'waiting', :group_code, :detail)"""

# People ahead of a new ticket (same order as allocation: priority class, then queue key, then id). Counted in
# ix_ticket_line; only the few rows at or after the new ticket's key are visited.
_LINE = "FROM ticket WHERE service_date = :day AND group_code = :group AND state = 'waiting' AND id != :id"
_EARLIER = "(queue_key < :key OR (queue_key = :key AND id < :id))"
AHEAD = {
    # everyone waiting but the normal tickets queued after it
    "normal": f"SELECT (SELECT count(*) {_LINE}) - (SELECT count(*) {_LINE} AND queue_key >= :key"
    f" AND priority = 'normal' AND NOT {_EARLIER})",
    "green": f"SELECT count(*) {_LINE} AND priority = 'green' AND {_EARLIER}",
    "appointment": f"SELECT count(*) {_LINE} AND (priority = 'green' OR (priority = 'appointment' AND {_EARLIER}))",
}


# PostgreSQL: every statement is a round trip, so the path sends fewer of them. The person and the counter go
# in one statement (a data-modifying WITH runs whether or not it is read), and the ticket, its event and the
# people ahead in another: the count's snapshot is taken before the insert, so the new ticket is not in it
# and every waiting ticket with the same queue key came earlier (a smaller id).
_PG_LINE = "FROM ticket WHERE service_date = :service_date AND group_code = :group_code AND state = 'waiting'"
_PG_AHEAD = {
    "normal": f"(SELECT count(*) {_PG_LINE}) - (SELECT count(*) {_PG_LINE} AND priority = 'normal'"
    " AND queue_key > :queue_key)",
    "green": f"(SELECT count(*) {_PG_LINE} AND priority = 'green' AND queue_key <= :queue_key)",
    "appointment": f"(SELECT count(*) {_PG_LINE} AND (priority = 'green'"
    " OR (priority = 'appointment' AND queue_key <= :queue_key)))",
}
PG_TICKET_EVENT_AHEAD = {
    priority: f"WITH t AS ({_TICKET} RETURNING id), e AS (INSERT INTO ticket_event (ticket_id, at, action,"
    " from_state, to_state, group_code, detail) SELECT id, :issued_at, 'issue', NULL, 'waiting', :group_code,"
    f" :detail FROM t) SELECT t.id, {ahead} FROM t"
    for priority, ahead in _PG_AHEAD.items()
}


def pg_counter_with(person: str) -> str:
    """PostgreSQL: the person's upsert and the day's counter in one statement (returns the new number)."""
    return f"WITH p AS ({person.strip()}) {COUNTER.strip()}"


class PlainWriteFailed(SQLAlchemyError):
    """Plain work on PostgreSQL failed after its first write: the whole transaction is given up (no savepoint
    to return to), its requests are answered `unavailable` and retried."""


@dataclass(frozen=True)
class NewTicket:
    """What the issue path knows of the ticket it just wrote (no ORM object is built for it)."""

    id: int
    number: str
    series: str
    seq: int
    service_date: date
    group_code: str
    item_code: str | None
    priority: str
    channel: str
    identity_hash: str | None
    masked_name: str | None
    issued_at: datetime
    queue_key: datetime
    appointment_at: datetime | None
    note: str | None
    public_token: str


@cache
def _sql(statement: str, dialect: str) -> str:
    """The statement in the driver's own parameter style (sqlite3 takes `:name`, psycopg `%(name)s`)."""
    if dialect == "sqlite":
        return statement
    return _NAMED.sub(lambda m: f"%({m.group(1)})s", statement)


@cache
def _binders(dialect: Dialect) -> dict[str, Callable[[Any], Any]]:
    """How the driver is given dates and times, exactly as the ORM columns give them (UTC, per dialect)."""
    columns = {
        "day": Ticket.__table__.c.service_date,  # type: ignore[attr-defined]
        "service_date": Ticket.__table__.c.service_date,  # type: ignore[attr-defined]
        "issued_at": Ticket.__table__.c.issued_at,  # type: ignore[attr-defined]
        "queue_key": Ticket.__table__.c.queue_key,  # type: ignore[attr-defined]
        "key": Ticket.__table__.c.queue_key,  # type: ignore[attr-defined]
        "appointment_at": Ticket.__table__.c.appointment_at,  # type: ignore[attr-defined]
        "at": Ticket.__table__.c.issued_at,  # type: ignore[attr-defined]
        "created_at": Person.__table__.c.created_at,  # type: ignore[attr-defined]
    }
    out = {}
    for name, column in columns.items():
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            out[name] = process
    return out


def bound(dialect: Dialect, name: str, value: Any) -> Any:
    """One value as the driver takes it for a parameter of that name (see _binders)."""
    process = _binders(dialect).get(name)
    return value if process is None or value is None else process(value)


def for_driver(dialect: Dialect, statement: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The statement and its parameters as the driver takes them (also how a test explains its plan)."""
    for name, process in _binders(dialect).items():
        value = params.get(name)
        if value is not None:
            params[name] = process(value)
    return _sql(statement, dialect.name), params


def run(session: Session, statement: str, **params: Any) -> list[Any]:
    """Execute one statement on the session's connection, inside its transaction; returns the rows (if any).

    Straight to the driver's cursor: none of these statements writes what an engine event watches (see the
    module docstring), and skipping SQLAlchemy's execution context is most of what this path saves."""
    conn = session.connection()
    sql, bound = for_driver(conn.dialect, statement, params)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, bound)
        return cursor.fetchall() if cursor.description is not None else []
    finally:
        cursor.close()


def one(session: Session, statement: str, **params: Any) -> Any:
    """The single value of a one-row, one-column answer (RETURNING, count)."""
    return run(session, statement, **params)[0][0]


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """A savepoint for work done only through `run` (no ORM objects to expire): an error undoes that work
    alone and goes on up; two plain statements instead of the ORM's nested transaction.

    On PostgreSQL, no savepoint at all (two round trips saved): the issue path refuses (HallError) before its
    first write — but for numbers_exhausted, whose writes (the person's row, a counter past the last number)
    are harmless — and any other error gives the whole transaction up (PlainWriteFailed)."""
    if is_postgresql(session):
        try:
            yield
        except HallError:
            raise
        except Exception as exc:
            raise PlainWriteFailed(f"plain work failed: {exc!r}"[:300]) from exc
        return
    run(session, "SAVEPOINT hallq_plain")
    try:
        yield
    except BaseException:
        run(session, "ROLLBACK TO SAVEPOINT hallq_plain")
        run(session, "RELEASE SAVEPOINT hallq_plain")
        raise
    run(session, "RELEASE SAVEPOINT hallq_plain")


def is_postgresql(session: Session) -> bool:
    """True on PostgreSQL (row locks and advisory locks), False on SQLite (one writer at a time)."""
    return session.get_bind().dialect.name == "postgresql"
