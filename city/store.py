"""Storing what halls send, independent of the transport: validate each message, store each (hall, seq)
once, keep the per-hall watermark (`upto`), the latest live state and the current state of cases,
rectifications and complaints, and mark the rollup days to refresh. One database transaction per batch."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import Connection, Engine, bindparam, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError

from broker.topics import parse_sync_up
from city.db.schema import (
    RECORD_TABLES,
    case_current,
    complaint_current,
    hall_live,
    rectification_current,
)
from city.partitions import SHANGHAI, Partitions, month_of
from city.registry import KnownHalls
from hallcore.clock import Clock
from hallcore.sync import (
    CaseRecord,
    ComplaintRecord,
    DeviceHealthRecord,
    Envelope,
    EvaluationRecord,
    QueueSnapshotRecord,
    RecordError,
    RectificationRecord,
    VisitRecord,
    parse,
)

log = logging.getLogger("city.store")
# The same record refused again (the hall resends it) counts up its row instead of adding one.
_REFUSE = text(
    "INSERT INTO rejected (at, last_at, topic, hall, seq, reason) VALUES (:at, :at, :topic, :hall, :seq, :reason) "
    "ON CONFLICT (topic, (coalesce(hall, '')), (coalesce(seq, 0)), reason) "
    "DO UPDATE SET last_at = excluded.last_at, times = rejected.times + 1"
)
RETRIES = 3  # a batch is idempotent: a deadlock or serialisation failure retries it whole


@dataclass(frozen=True)
class Incoming:
    """One message as the broker delivered it: the topic proves which hall sent it."""

    topic: str
    payload: bytes


@dataclass
class Accepted:
    """A message that passed every check, ready to store."""

    envelope: Envelope
    record: Any
    stream: str
    at: datetime


@dataclass
class BatchResult:
    """What one batch did; `acks` is the watermark to acknowledge per hall (after the commit)."""

    stored: int = 0
    replays: int = 0
    rejected: int = 0
    acks: dict[str, int] = field(default_factory=dict)
    partitions_created: list[str] = field(default_factory=list)


def local_day(instant: datetime) -> date:
    """The hall-local (Shanghai) date of an instant."""
    return instant.astimezone(SHANGHAI).date()


def record_time(envelope: Envelope, record: Any) -> datetime:
    """The time a record is filed under (its partition): when the thing it records happened."""
    if isinstance(record, VisitRecord):
        return record.ended_at
    if isinstance(record, CaseRecord | EvaluationRecord | DeviceHealthRecord | QueueSnapshotRecord):
        return record.at
    return envelope.ts  # rectifications and complaints move over time: the moment of this change


def _payload_seq(payload: bytes) -> int | None:
    """Best-effort seq of a refused message, for the rejected log (never the payload itself)."""
    try:
        seq = json.loads(payload).get("seq")
    except (ValueError, AttributeError):
        return None
    return seq if isinstance(seq, int) and 0 < seq < 2**63 else None


class Store:
    """The ingest's storage service: `ingest(batch)` is all a consumer calls."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        known: KnownHalls | None = None,
        past_days: int = 400,
        future_days: int = 2,
        advance: bool = True,
    ) -> None:
        self.engine = engine
        # advance=False (the ingest workers): no per-hall row locks in the batch transaction; the batch only
        # NOTIFYs its halls and the single acker (`city.acker`) advances the watermarks and sends the acks.
        self.advance = advance
        self.clock = clock
        self.known = known or KnownHalls(engine)
        self.partitions = Partitions(engine)
        self.past = timedelta(days=past_days)
        self.future = timedelta(days=future_days)

    # -- validation -------------------------------------------------------------------------------------
    def check(self, msg: Incoming, now: datetime) -> Accepted | tuple[str | None, int | None, str]:
        """An Accepted record, or (hall, seq, reason) for the rejected log."""
        where = parse_sync_up(msg.topic)
        if where is None:
            return None, _payload_seq(msg.payload), "not a sync/up topic"
        hall, stream = where
        try:
            envelope, record = parse(stream, msg.payload)
        except RecordError as exc:
            return hall, _payload_seq(msg.payload), f"malformed: {exc}"[:300]
        if envelope.hall != hall:
            return hall, envelope.seq, f"envelope hall {envelope.hall} differs from the topic's hall"
        if hall not in self.known:
            return hall, envelope.seq, "hall code not assigned by the city"
        at = record_time(envelope, record)
        if not now - self.past <= at <= now + self.future:
            return hall, envelope.seq, f"record time {at.isoformat()} out of range"
        return Accepted(envelope, record, stream, at)

    def reject(self, msg: Incoming, reason: str) -> None:
        """Log one message as refused (its topic, hall and seq; never its content)."""
        where = parse_sync_up(msg.topic)
        row = {
            "at": self.clock.now(),
            "topic": msg.topic[:200],
            "hall": where[0] if where else None,
            "seq": _payload_seq(msg.payload),
            "reason": reason[:300],
        }
        with self.engine.begin() as conn:
            conn.execute(_REFUSE, [row])
        log.warning("refused %s seq=%s: %s", row["topic"], row["seq"], reason)

    # -- the batch --------------------------------------------------------------------------------------
    def ingest(self, batch: Sequence[Incoming]) -> BatchResult:
        """Validate and store a batch in one transaction; returns the acks to send after it committed."""
        now = self.clock.now()
        good: dict[tuple[str, int], Accepted] = {}
        refused: list[dict[str, Any]] = []
        duplicates = 0
        for msg in batch:
            outcome = self.check(msg, now)
            if isinstance(outcome, Accepted):
                key = (outcome.envelope.hall, outcome.envelope.seq)
                if key in good:
                    duplicates += 1  # the same record twice in one batch (a resend): store once
                else:
                    good[key] = outcome
            else:
                hall, seq, reason = outcome
                refused.append({"at": now, "topic": msg.topic[:200], "hall": hall, "seq": seq, "reason": reason})
                log.warning("refused %s seq=%s: %s", msg.topic[:200], seq, reason)
        result = BatchResult(rejected=len(refused))
        needed = {(a.stream, month_of(a.at)) for a in good.values()}
        result.partitions_created = self.partitions.ensure(needed)
        for attempt in range(1, RETRIES + 1):
            try:
                with self.engine.begin() as conn:
                    stored = self._store(conn, good, now)
                    if refused:
                        conn.execute(_REFUSE, refused)
                    if self.advance:
                        result.acks = self._advance(conn, sorted({h for h, _ in good}), good, now)
                    else:
                        notify_stored(conn, sorted({h for h, _ in good}))
                if not self.advance and good:
                    self._live_apart(good, now)
                break
            except DBAPIError as exc:
                if attempt == RETRIES or getattr(exc.orig, "sqlstate", None) not in ("40P01", "40001"):
                    raise
                log.info("batch retried after %s", type(exc.orig).__name__)
        result.stored = len(stored)
        result.replays = len(good) - len(stored) + duplicates
        return result

    def _store(self, conn: Connection, good: dict[tuple[str, int], Accepted], now: datetime) -> list[Accepted]:
        """Insert the ledger rows; only the records that were new get stored anywhere else."""
        if not good:
            return []
        keys = sorted(good)  # (hall, seq) order: concurrent workers take the same keys in the same order
        params = {
            "halls": [h for h, _ in keys],
            "seqs": [s for _, s in keys],
            "streams": [good[k].stream for k in keys],
            "now": now,
        }
        new_keys = {(r.hall, r.seq) for r in conn.execute(_RECEIVE, params)}
        fresh = [good[k] for k in sorted(new_keys)]
        by_stream: dict[str, list[dict[str, Any]]] = {}
        for a in fresh:
            by_stream.setdefault(a.stream, []).append(_record_row(a, now))
        for stream, stream_rows in sorted(by_stream.items()):
            _copy(conn, RECORD_TABLES[stream].name, stream_rows)
        self._current(conn, fresh, now)
        dirty = sorted({key for a in fresh for key in _dirty_days(a)})
        if dirty:
            conn.execute(_DIRTY, {"halls": [h for h, _ in dirty], "days": [d for _, d in dirty]})
        return fresh

    def _current(self, conn: Connection, fresh: Iterable[Accepted], now: datetime) -> None:
        """Upsert the latest state of each case, rectification and complaint (newest seq wins)."""
        latest: dict[tuple[str, str, object], Accepted] = {}
        for a in fresh:
            key_of = _CURRENT_KEYS.get(type(a.record))
            if key_of is not None:
                key = (a.stream, a.envelope.hall, key_of(a.record))
                if key not in latest or latest[key].envelope.seq < a.envelope.seq:
                    latest[key] = a
        groups: dict[str, list[dict[str, Any]]] = {}
        for key in sorted(latest, key=lambda k: (k[0], k[1], str(k[2]))):
            a = latest[key]
            groups.setdefault(a.stream, []).append(_current_row(a, now))
        for stream, rows in groups.items():
            table = _CURRENT_TABLES[stream]
            stmt = pg_insert(table)
            keys = [c.name for c in table.primary_key.columns]
            changes = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
            conn.execute(
                stmt.on_conflict_do_update(index_elements=keys, set_=changes, where=table.c.seq < stmt.excluded.seq),
                rows,
            )

    def _live_apart(self, good: dict[tuple[str, int], Accepted], now: datetime) -> None:
        """The live state in a short transaction of its own after the batch committed: the rows stay locked
        for one statement, not for the batch's fsync. It is derived (the snapshots are in rec_*), so its commit
        need not wait for the disk."""
        mine: dict[str, list[Accepted]] = {}
        for (hall, _), a in good.items():
            mine.setdefault(hall, []).append(a)
        with self.engine.begin() as conn:
            conn.execute(text("SET LOCAL synchronous_commit = off"))
            conn.execute(_LIVE_SQL, [_live_values(hall, mine[hall], now) for hall in sorted(mine)])

    def _advance(
        self, conn: Connection, halls: list[str], good: dict[tuple[str, int], Accepted], now: datetime
    ) -> dict[str, int]:
        """All halls of the batch at once, in code order (so workers never deadlock): the live state, then the
        watermark rows locked, advanced over the contiguous seqs and saved; a few statements per batch."""
        if not halls:
            return {}
        mine: dict[str, list[Accepted]] = {}
        for (hall, _), a in good.items():
            mine.setdefault(hall, []).append(a)
        conn.execute(_LIVE_SQL, [_live_values(hall, mine[hall], now) for hall in halls])
        rows = {r.hall: r for r in conn.execute(_LOCK_WATERMARKS, {"halls": halls, "now": now})}
        uptos = _contiguous(conn, {hall: int(rows[hall].upto) for hall in halls})
        changed = []
        for hall in halls:
            top = max(int(rows[hall].max_seq), max(a.envelope.seq for a in mine[hall]), uptos[hall])
            if (uptos[hall], top) != (rows[hall].upto, rows[hall].max_seq):
                changed.append((hall, uptos[hall], top))
        if changed:
            conn.execute(
                _SAVE_WATERMARKS,
                {
                    "halls": [c[0] for c in changed],
                    "uptos": [c[1] for c in changed],
                    "tops": [c[2] for c in changed],
                    "now": now,
                },
            )
        return uptos


# The store-once ledger: one statement with arrays (constant SQL, prepared once) whatever the batch size.
_RECEIVE = text(
    "INSERT INTO received (hall, seq, stream, received_at) "
    "SELECT h, s, st, :now FROM unnest(CAST(:halls AS varchar[]), CAST(:seqs AS bigint[]), "
    "CAST(:streams AS varchar[])) AS r(h, s, st) ON CONFLICT DO NOTHING RETURNING hall, seq"
)
_DIRTY = text(
    "INSERT INTO rollup_dirty (hall, day) SELECT * FROM unnest(CAST(:halls AS varchar[]), CAST(:days AS date[])) "
    "ON CONFLICT DO NOTHING"
)
# Creates each hall's watermark row on first sight and locks it either way, in code order.
_LOCK_WATERMARKS = text(
    "INSERT INTO hall_watermark (hall, upto, max_seq, updated_at) "
    "SELECT h, 0, 0, :now FROM unnest(CAST(:halls AS varchar[])) AS h ORDER BY h "
    "ON CONFLICT (hall) DO UPDATE SET hall = excluded.hall RETURNING hall, upto, max_seq"
)
_SAVE_WATERMARKS = text(
    "UPDATE hall_watermark w SET upto = v.upto, max_seq = v.top, updated_at = :now FROM unnest("
    "CAST(:halls AS varchar[]), CAST(:uptos AS bigint[]), CAST(:tops AS bigint[])) AS v(hall, upto, top) "
    "WHERE w.hall = v.hall"
)
_PAGE = 2000
# Per hall: how many of the next _PAGE received seqs above its watermark run on from it without a hole.
_RUNS = text(
    "SELECT w.hall, (SELECT count(*) FILTER (WHERE t.seq - t.rn = w.after) FROM ("
    "SELECT s.seq, row_number() OVER (ORDER BY s.seq) AS rn FROM ("
    "SELECT r.seq FROM received r WHERE r.hall = w.hall AND r.seq > w.after ORDER BY r.seq LIMIT :page) s) t"
    ") AS run FROM unnest(CAST(:halls AS varchar[]), CAST(:afters AS bigint[])) AS w(hall, after)"
)


STORED_CHANNEL = "city_stored"
_NOTIFY_HALLS = 1000  # codes per NOTIFY payload (5 bytes each; PostgreSQL's limit is 8,000 bytes)


def notify_stored(conn: Connection, halls: list[str]) -> None:
    """Tell the acker (at commit, not before) which halls this batch held records of, replays included."""
    for i in range(0, len(halls), _NOTIFY_HALLS):
        conn.execute(
            text("SELECT pg_notify(:ch, :halls)"),
            {"ch": STORED_CHANNEL, "halls": ",".join(halls[i : i + _NOTIFY_HALLS])},
        )


# The acker's view (it alone writes hall_watermark when the workers do not advance): upto and max_seq.
_MAX_SEQS = text(
    "SELECT h AS hall, (SELECT max(r.seq) FROM received r WHERE r.hall = h) AS top "
    "FROM unnest(CAST(:halls AS varchar[])) AS h"
)


def advance_watermarks(conn: Connection, halls: list[str], now: datetime) -> dict[str, tuple[int, bool]]:
    """Advance each hall's watermark over its contiguous received seqs: {hall: (upto, changed)}. Locks the rows
    (in code order) so it is also safe next to workers that still advance themselves."""
    if not halls:
        return {}
    halls = sorted(set(halls))
    rows = {r.hall: r for r in conn.execute(_LOCK_WATERMARKS, {"halls": halls, "now": now})}
    tops = {r.hall: int(r.top or 0) for r in conn.execute(_MAX_SEQS, {"halls": halls})}
    uptos = _contiguous(conn, {hall: int(rows[hall].upto) for hall in halls})
    out: dict[str, tuple[int, bool]] = {}
    changed = []
    for hall in halls:
        top = max(int(rows[hall].max_seq), tops[hall], uptos[hall])
        moved = uptos[hall] != int(rows[hall].upto)
        if moved or top != int(rows[hall].max_seq):
            changed.append((hall, uptos[hall], top))
        out[hall] = (uptos[hall], moved)
    if changed:
        conn.execute(
            _SAVE_WATERMARKS,
            {
                "halls": [c[0] for c in changed],
                "uptos": [c[1] for c in changed],
                "tops": [c[2] for c in changed],
                "now": now,
            },
        )
    return out


def _contiguous(conn: Connection, uptos: dict[str, int]) -> dict[str, int]:
    """Each hall's highest seq with no hole below it, walking forward from its last watermark."""
    result, todo = dict(uptos), dict(uptos)
    while todo:
        params = {"halls": list(todo), "afters": list(todo.values()), "page": _PAGE}
        runs = {r.hall: int(r.run) for r in conn.execute(_RUNS, params)}
        for hall, run in runs.items():
            result[hall] += run
        todo = {hall: result[hall] for hall, run in runs.items() if run == _PAGE}
    return result


def _copy(conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """Bulk-load rows with COPY in the batch's transaction (several times faster than INSERTs)."""
    columns = list(rows[0])
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([Jsonb(v) if c == "record" else v for c, v in row.items()])


def _record_row(a: Accepted, now: datetime) -> dict[str, Any]:
    row: dict[str, Any] = {
        "hall": a.envelope.hall,
        "seq": a.envelope.seq,
        "at": a.at,
        "received_at": now,
        "kind": a.envelope.kind,
        "record": a.record.model_dump(mode="json"),
    }
    r = a.record
    if isinstance(r, VisitRecord):
        row |= {
            "service_date": r.service_date,
            "department": r.department or "",
            "item_code": r.item_code or "",
            "wait_s": r.wait_s,
            "service_s": r.service_s,
        }
    elif isinstance(r, CaseRecord):
        row["serial_no"] = r.serial_no
    elif isinstance(r, EvaluationRecord):
        row |= {
            "department": r.department or "",
            "item_code": r.item_code or "",
            "level_gb": r.level_gb,
            "is_bad": r.is_bad,
        }
    return row


def _dirty_days(a: Accepted) -> list[tuple[str, date]]:
    """The (hall, day) rollups a new record changes."""
    r, hall = a.record, a.envelope.hall
    if isinstance(r, VisitRecord):
        return [(hall, r.service_date)]
    if isinstance(r, EvaluationRecord):
        return [(hall, local_day(r.at))]
    if isinstance(r, CaseRecord):
        return [(hall, r.promised_date)]
    if isinstance(r, RectificationRecord):
        return [(hall, r.deadline)]
    return []


_CURRENT_KEYS: dict[type, Any] = {
    CaseRecord: lambda r: r.serial_no,
    RectificationRecord: lambda r: r.rectification_id,
    ComplaintRecord: lambda r: r.complaint_id,
}
_CURRENT_TABLES = {"cases": case_current, "rectifications": rectification_current, "complaints": complaint_current}


def _current_row(a: Accepted, now: datetime) -> dict[str, Any]:
    r, base = a.record, {"hall": a.envelope.hall, "seq": a.envelope.seq}
    if isinstance(r, CaseRecord):
        return base | {
            "serial_no": r.serial_no,
            "item_code": r.item_code,
            "item_name": r.item_name,
            "department": r.department or "",
            "status": r.status,
            "accepted_at": r.accepted_at,
            "promised_date": r.promised_date,
            "decided_at": r.decided_at,
            "delivery": r.delivery,
            "person_hash": r.person_hash,
            "updated_at": r.at,
        }
    if isinstance(r, RectificationRecord):
        return base | {
            "rectification_id": r.rectification_id,
            "evaluation_id": r.evaluation_id,
            "department": r.department or "",
            "window_id": r.window_id,
            "state": r.state,
            "opened_at": r.opened_at,
            "deadline": r.deadline,
            "closed_at": r.closed_at,
            "on_time": r.on_time,
        }
    assert isinstance(r, ComplaintRecord)
    return base | {
        "complaint_id": r.complaint_id,
        "kind": r.kind,
        "source": r.source,
        "state": r.state,
        "received_at": r.received_at,
        "due": r.due,
        "closed_at": r.closed_at,
        "department": r.department or "",
    }


def _newer(column: str, stamp: str) -> str:
    """SQL: take the incoming value of `column` only when its snapshot time `stamp` is newer."""
    return (
        f"{column} = CASE WHEN excluded.{stamp} IS NOT NULL AND "
        f"(hall_live.{stamp} IS NULL OR excluded.{stamp} > hall_live.{stamp}) "
        f"THEN excluded.{column} ELSE hall_live.{column} END"
    )


_QUEUE = ("waiting", "open_windows", "longest_wait_min", "groups")
_HEALTH = ("devices_online", "devices_offline", "problems", "catalog_version", "calendar_version")
_LIVE_SQL = text(
    "INSERT INTO hall_live (hall, last_record_at, last_received_at, queue_at, waiting, open_windows, "
    "longest_wait_min, groups, health_at, devices_online, devices_offline, problems, catalog_version, "
    "calendar_version) VALUES (:hall, :last_record_at, :last_received_at, :queue_at, :waiting, :open_windows, "
    ":longest_wait_min, :groups, :health_at, :devices_online, :devices_offline, :problems, :catalog_version, "
    ":calendar_version) ON CONFLICT (hall) DO UPDATE SET "
    "last_received_at = excluded.last_received_at, "
    "last_record_at = GREATEST(hall_live.last_record_at, excluded.last_record_at), "
    + ", ".join(_newer(c, "queue_at") for c in _QUEUE)
    + ", "
    + ", ".join(_newer(c, "health_at") for c in _HEALTH)
    + ", "
    + _newer("queue_at", "queue_at")
    + ", "
    + _newer("health_at", "health_at")
).bindparams(bindparam("groups", type_=hall_live.c.groups.type), bindparam("problems", type_=hall_live.c.problems.type))


def _live_values(hall: str, mine: list[Accepted], now: datetime) -> dict[str, Any]:
    """The hall's newest queue snapshot and device health, its newest record time, and when it last spoke."""
    values: dict[str, Any] = {c: None for c in ("queue_at", "health_at", *_QUEUE, *_HEALTH)}
    values |= {"hall": hall, "last_received_at": now, "last_record_at": max(a.at for a in mine)}
    queues = [a.record for a in mine if isinstance(a.record, QueueSnapshotRecord)]
    if queues:
        q = max(queues, key=lambda r: r.at)
        values |= {
            "queue_at": q.at,
            "waiting": q.waiting,
            "open_windows": q.open_windows,
            "longest_wait_min": q.longest_wait_min,
            "groups": [g.model_dump() for g in q.groups],
        }
    healths = [a.record for a in mine if isinstance(a.record, DeviceHealthRecord)]
    if healths:
        d = max(healths, key=lambda r: r.at)
        values |= {
            "health_at": d.at,
            "devices_online": d.online,
            "devices_offline": d.offline,
            "problems": list(d.problems),
            "catalog_version": d.catalog_version,
            "calendar_version": d.calendar_version,
        }
    return values
