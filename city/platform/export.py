"""Monthly export of 好差评 records into upload batches, idempotent: each stored (hall, seq) goes into exactly
one batch (the `platform_exported` ledger), so exporting a month again only picks up records that arrived
since — late records of a hall that was offline included — and never repeats one."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, text

from city.platform import gbt39046
from city.platform.tables import platform_batch, platform_exported

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

_EVALUATIONS = text(
    """
    SELECT e.hall, e.seq, e.record, h.region_code
    FROM rec_evaluations e
    JOIN city_hall h ON h.code = e.hall
    LEFT JOIN platform_exported x ON x.hall = e.hall AND x.seq = e.seq
    WHERE e.at >= :start AND e.at < :end AND x.hall IS NULL
    ORDER BY e.at, e.hall, e.seq
    """
)
_RECTIFICATIONS = text(
    """
    SELECT r.hall, r.seq, r.record, h.region_code,
           (SELECT e.record->>'serial_no' FROM rec_evaluations e
             WHERE e.hall = r.hall AND e.record->>'evaluation_id' = r.record->>'evaluation_id'
             ORDER BY e.seq LIMIT 1) AS serial_no
    FROM rec_rectifications r
    JOIN city_hall h ON h.code = r.hall
    LEFT JOIN platform_exported x ON x.hall = r.hall AND x.seq = r.seq
    WHERE r.at >= :start AND r.at < :end AND x.hall IS NULL
    ORDER BY r.at, r.hall, r.seq
    """
)


@dataclass(frozen=True)
class Exported:
    """What one export made."""

    month: str
    batches: list[str]
    records: int


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The first instant of the month and of the next, in Beijing time."""
    match = MONTH.match(month)
    if match is None:
        raise ValueError(f"月份格式应为 YYYY-MM：{month!r}")
    year, mon = int(match.group(1)), int(match.group(2))
    start = datetime(year, mon, 1, tzinfo=gbt39046.BEIJING)
    end = datetime(year + (mon == 12), 1 if mon == 12 else mon + 1, 1, tzinfo=gbt39046.BEIJING)
    return start, end


def _records(conn: Connection, start: datetime, end: datetime, chunk: int) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """The month's not yet exported records, streamed from the server (a city month is ~10⁶ ratings)."""
    streamed = conn.execution_options(stream_results=True, yield_per=chunk)
    for row in streamed.execute(_EVALUATIONS, {"start": start, "end": end}):
        yield row.hall, row.seq, gbt39046.evaluation(row.hall, row.seq, row.region_code, row.record)
    for row in streamed.execute(_RECTIFICATIONS, {"start": start, "end": end}):
        rec = gbt39046.rectification(row.hall, row.seq, row.region_code, row.record, row.serial_no)
        yield row.hall, row.seq, rec


def body_bytes(batch_id: str, sender: str, month: str, records: list[dict[str, Any]]) -> bytes:
    """The exact bytes uploaded for a batch (canonical JSON: a retry sends the same bytes)."""
    payload = {"batch_id": batch_id, "sender": sender, "month": month, "records": records}
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def export_month(engine: Engine, month: str, sender: str, now: datetime, batch_size: int = 500) -> Exported:
    """Put every not yet exported evaluation and rectification of `month` into new pending batches."""
    start, end = month_bounds(month)
    made: list[str] = []
    total = 0
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('platform_export'))"))  # one export at a time
        already = conn.execute(select(func.count()).where(platform_batch.c.month == month)).scalar_one()
        chunk: list[tuple[str, int, dict[str, Any]]] = []
        with engine.begin() as writer:  # a second connection: the first one is busy streaming
            for row in _records(conn, start, end, batch_size):
                chunk.append(row)
                if len(chunk) == batch_size:
                    made.append(
                        _batch(
                            writer,
                            f"{sender}-{month.replace('-', '')}-{already + len(made) + 1:04d}",
                            sender,
                            month,
                            chunk,
                            now,
                        )
                    )
                    total, chunk = total + len(chunk), []
            if chunk:
                made.append(
                    _batch(
                        writer,
                        f"{sender}-{month.replace('-', '')}-{already + len(made) + 1:04d}",
                        sender,
                        month,
                        chunk,
                        now,
                    )
                )
                total += len(chunk)
    return Exported(month, made, total)


def _batch(
    conn: Connection,
    batch_id: str,
    sender: str,
    month: str,
    chunk: list[tuple[str, int, dict[str, Any]]],
    now: datetime,
) -> str:
    """Store one pending batch and mark its records exported."""
    records = [record for _, _, record in chunk]
    body = body_bytes(batch_id, sender, month, records)
    conn.execute(
        insert(platform_batch).values(
            batch_id=batch_id,
            month=month,
            created_at=now,
            records=len(records),
            body=records,
            digest=hashlib.sha256(body).hexdigest(),
            state="pending",
            attempts=0,
            next_attempt_at=now,
        )
    )
    conn.execute(insert(platform_exported), [{"hall": h, "seq": s, "batch_id": batch_id} for h, s, _ in chunk])
    return batch_id


def export_file(engine: Engine, month: str) -> list[dict[str, Any]]:
    """Every record of the month's batches, in batch order (for `--out`: what went or goes to the platform)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(platform_batch.c.body).where(platform_batch.c.month == month).order_by(platform_batch.c.batch_id)
        ).all()
    return [record for row in rows for record in row.body]


def last_month(today: date) -> str:
    """The month before `today` (the usual monthly report)."""
    year, month = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    return f"{year:04d}-{month:02d}"
