"""The platform upload's tables: batches (what was exported, its state and retries), the upload log (every
attempt with its answer) and the ledger of exported records ((hall, seq) once, so exports never repeat)."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, DateTime, Engine, Integer, MetaData, String, Table, Text

metadata = MetaData()
TZ = DateTime(timezone=True)

platform_batch = Table(
    "platform_batch",
    metadata,
    Column("batch_id", String(64), primary_key=True),
    Column("month", String(7), nullable=False),
    Column("created_at", TZ, nullable=False),
    Column("records", Integer, nullable=False),
    Column("body", JSON, nullable=False),  # the records exactly as sent, so a retry sends the same bytes
    Column("digest", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # pending | sent | rejected
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", TZ),
    Column("sent_at", TZ),
    Column("last_status", Integer),
    Column("last_response", Text),
)

platform_upload_log = Table(
    "platform_upload_log",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("batch_id", String(64), nullable=False, index=True),
    Column("at", TZ, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status", Integer),  # HTTP status; None when the platform could not be reached
    Column("response", Text),  # the platform's answer (cut), or the network error
)

platform_exported = Table(
    "platform_exported",
    metadata,
    Column("hall", String(4), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("batch_id", String(64), nullable=False),
)


def ensure_tables(engine: Engine) -> None:
    """Create the tables when the city's migration has not (idempotent)."""
    metadata.create_all(engine, checkfirst=True)
