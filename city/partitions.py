"""Monthly partitions of the record tables: created ahead (migrate, ingest start-up) and on demand when a
record falls in a month that has none. Safe under concurrent workers: an advisory lock serialises creators,
`IF NOT EXISTS` makes a second creation a no-op, and creation runs outside any ingest transaction (so a
worker never holds row locks while it waits for the parent table's lock)."""

from __future__ import annotations

import threading
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text

from city.db.schema import RECORD_TABLES

SHANGHAI = ZoneInfo("Asia/Shanghai")  # months are the halls' local months
_LOCK_KEY = 0x6369747970617274  # pg_advisory_lock key ("citypart")


def month_of(instant: datetime) -> date:
    """The first day of the (Shanghai) month an instant falls in."""
    local = instant.astimezone(SHANGHAI)
    return date(local.year, local.month, 1)


def add_months(month: date, n: int) -> date:
    """The first day of the month n months after `month`."""
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def partition_name(stream: str, month: date) -> str:
    """rec_visits_p202612: the partition of one stream for one month."""
    return f"{RECORD_TABLES[stream].name}_p{month:%Y%m}"


class Partitions:
    """Knows which monthly partitions exist (cached per process) and creates the missing ones."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._known: set[tuple[str, date]] = set()
        self._lock = threading.Lock()

    def ensure(self, needed: set[tuple[str, date]]) -> list[str]:
        """Make sure a partition exists for every (stream, month); returns the ones this call created."""
        missing = needed - self._known
        if not missing:
            return []
        with self._lock:
            missing = needed - self._known
            if not missing:
                return []
            created = self._create(missing)
            self._known |= missing
        return created

    def ensure_ahead(self, today: date, behind: int = 1, ahead: int = 2) -> list[str]:
        """Partitions for every stream from `behind` months before to `ahead` months after today's month."""
        first = date(today.year, today.month, 1)
        months = [add_months(first, n) for n in range(-behind, ahead + 1)]
        return self.ensure({(stream, m) for stream in RECORD_TABLES for m in months})

    def _create(self, missing: set[tuple[str, date]]) -> list[str]:
        created: list[str] = []
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            existing = {row[0] for row in conn.execute(text(_EXISTING))}
            todo = sorted((s, m) for s, m in missing if partition_name(s, m) not in existing)
            if not todo:
                return created
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_KEY})
            try:
                for stream, month in todo:
                    name = partition_name(stream, month)
                    start = datetime(month.year, month.month, 1, tzinfo=SHANGHAI)
                    nxt = add_months(month, 1)
                    end = datetime(nxt.year, nxt.month, 1, tzinfo=SHANGHAI)
                    result = conn.execute(text(_EXISTS), {"name": name}).scalar()
                    if result:
                        continue
                    conn.execute(
                        text(
                            f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {RECORD_TABLES[stream].name} "
                            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
                        )
                    )
                    created.append(name)
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
        return created


_EXISTING = """
SELECT c.relname FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
JOIN pg_class p ON p.oid = i.inhparent
WHERE p.relname LIKE 'rec\\_%'
"""
_EXISTS = "SELECT 1 FROM pg_class WHERE relname = :name AND relkind = 'r'"


def list_partitions(engine: Engine) -> list[str]:
    """Every existing record partition, by name."""
    with engine.connect() as conn:
        return sorted(row[0] for row in conn.execute(text(_EXISTING)))
