"""The outbox: append records under the hall's gapless sequence, read what is due for publishing, prune
what the city acknowledged, and measure the backlog. Plain functions over a session."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from hallcore.sync import RECORDS, envelope
from hallcore.sync import _Record as Record
from hallserver.models import SyncOutbox, SyncState

_KIND_OF = {model: kind for kind, (_, model) in RECORDS.items()}


def take_seq(session: Session, count: int) -> int:
    """Reserve `count` seqs from the counter row; returns the first. The row stays locked until the
    transaction ends, so writers queue on it and a rollback gives the numbers back: no hole, no repeat."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = SyncState.__table__  # type: ignore[attr-defined]
    stmt = (
        insert(SyncState)
        .values(id=1, last_seq=count, acked_upto=0)
        .on_conflict_do_update(index_elements=["id"], set_={"last_seq": table.c.last_seq + count})
        .returning(table.c.last_seq)
    )
    last = int(session.execute(stmt).scalar_one())
    return last - count + 1


def append(session: Session, records: Sequence[Record], now: datetime) -> list[SyncOutbox]:
    """Write records into the outbox in this transaction, numbered in order."""
    if not records:
        return []
    first = take_seq(session, len(records))
    rows = []
    for offset, record in enumerate(records):
        kind = _KIND_OF[type(record)]
        row = SyncOutbox(
            seq=first + offset,
            stream=RECORDS[kind][0].value,
            kind=kind,
            created_at=now,
            record=record.model_dump_json(),
        )
        session.add(row)
        rows.append(row)
    return rows


def message(row: SyncOutbox, hall_code: str, zone: object) -> bytes:
    """The envelope of one outbox row as published on `hall/{hall}/sync/up/{stream}`."""
    record = RECORDS[row.kind][1].model_validate(json.loads(row.record))
    ts = row.created_at.astimezone(zone)  # type: ignore[arg-type]
    return envelope(hall_code, row.seq, ts, record).model_dump_json().encode("utf-8")


def due(session: Session, now: datetime, resend_after: timedelta, limit: int) -> list[SyncOutbox]:
    """Rows to publish now, in seq order: never sent, or sent longer ago than the resend timeout."""
    if limit <= 0:
        return []
    stale = now - resend_after
    return list(
        session.exec(
            select(SyncOutbox)
            .where(or_(col(SyncOutbox.sent_at).is_(None), col(SyncOutbox.sent_at) < stale))
            .order_by(col(SyncOutbox.seq))
            .limit(limit)
        ).all()
    )


def in_flight(session: Session, now: datetime, resend_after: timedelta) -> int:
    """Rows sent and not yet acknowledged nor due for a resend."""
    return int(
        session.exec(
            select(func.count()).select_from(SyncOutbox).where(col(SyncOutbox.sent_at) >= now - resend_after)
        ).one()
    )


def mark_sent(session: Session, seqs: Sequence[int], now: datetime) -> None:
    """Remember when rows went out (a resend happens only after the timeout)."""
    if seqs:
        session.execute(
            update(SyncOutbox)
            .where(col(SyncOutbox.seq).in_(list(seqs)))
            .values(sent_at=now, attempts=SyncOutbox.attempts + 1)
        )


def resend_all(session: Session) -> int:
    """Forget every send (the link came back: what the bridge held may be gone); how many rows."""
    result = session.execute(update(SyncOutbox).where(col(SyncOutbox.sent_at).is_not(None)).values(sent_at=None))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def acknowledge(session: Session, upto: int, now: datetime) -> int:
    """The city holds every record up to `upto`: prune them and remember the ack; how many were pruned.
    An ack beyond what the hall ever wrote is a city error and moves nothing."""
    state = session.get(SyncState, 1)
    last = state.last_seq if state else 0
    if upto > last:
        raise ValueError(f"ack upto {upto} beyond the last seq {last}")
    pruned = session.execute(delete(SyncOutbox).where(col(SyncOutbox.seq) <= upto))
    if state is not None and upto >= state.acked_upto:
        state.acked_upto, state.acked_at = upto, now
        session.add(state)
    return int(pruned.rowcount or 0)  # type: ignore[attr-defined]


def backlog_state(session: Session) -> SyncState:
    """The counter row (a fresh one when a database predates it)."""
    return session.get(SyncState, 1) or SyncState(id=1, last_seq=0, acked_upto=0)


@dataclass(frozen=True)
class Backlog:
    """What waits for the city."""

    count: int
    oldest_at: datetime | None
    last_seq: int
    acked_upto: int
    acked_at: datetime | None
    by_stream: dict[str, int]


def backlog(session: Session) -> Backlog:
    """Rows not yet acknowledged, the oldest one's time, and the counter row."""
    rows = session.exec(
        select(SyncOutbox.stream, func.count(), func.min(SyncOutbox.created_at)).group_by(SyncOutbox.stream)
    ).all()
    by_stream = {str(stream): int(n) for stream, n, _ in rows}
    oldest = min((at for _, _, at in rows if at is not None), default=None)
    state = session.get(SyncState, 1)
    return Backlog(
        count=sum(by_stream.values()),
        oldest_at=oldest,
        last_seq=state.last_seq if state else 0,
        acked_upto=state.acked_upto if state else 0,
        acked_at=state.acked_at if state else None,
        by_stream=by_stream,
    )
