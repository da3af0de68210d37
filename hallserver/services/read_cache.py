"""What the server already knows, kept between requests: values read from the database (the window capacity
per group, the recent mean service time per group) are reused until a write that could change them commits
on the same engine, instead of being re-read for every ticket.

Invalidation watches the SQL itself, so every writer in the process is covered (ORM flushes,
`session.execute(delete(…))`, raw SQL): a statement that writes what a kind of value is read from marks its
connection; while such a transaction is open the cache of that kind is bypassed (the writer must see its own
change, the others the committed state); when the connection goes back to the pool (after its commit or
rollback) the cache is dropped. A value read while a writer was at work is never stored. A change made by
another process (or a single-row INSERT of an already finished ticket, which no code path makes) is seen
within MAX_AGE_S."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event
from sqlalchemy.pool import Pool

MAX_AGE_S = 5.0
_WRITE_HEADS = frozenset("UuIiDd")  # UPDATE, INSERT, DELETE: any other statement is skipped at once
_WRITE = re.compile(r'\s*(UPDATE|INSERT\s+(?:OR\s+\w+\s+)?INTO|DELETE\s+FROM)\s+"?(\w+)"?[\s(]', re.I)


def _windows(verb: str, table: str, statement: str, many: bool) -> bool:
    return table in ("window", "window_group")


def _service_times(verb: str, table: str, statement: str, many: bool) -> bool:
    # A visit ends (UPDATE … finished_at), tickets are removed, or finished visits are loaded in bulk.
    if table != "ticket":
        return False
    if verb == "UPDATE":
        return "finished_at" in statement or "started_at" in statement
    return verb == "DELETE" or many


KINDS: dict[str, Callable[[str, str, str, bool], bool]] = {
    "window_capacity": _windows,
    "service_minutes": _service_times,
}


@dataclass
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    generation: int = 0
    writers: int = 0  # open transactions that wrote what these values are read from
    values: dict[Any, tuple[float, Any]] = field(default_factory=dict)  # key → (read at, value)


_ENTRIES: WeakKeyDictionary[Any, dict[str, _Entry]] = WeakKeyDictionary()
_ENTRIES_LOCK = threading.Lock()
_MARK = "hallq_read_cache_writes"


def _entry(engine: Any, kind: str) -> _Entry:
    with _ENTRIES_LOCK:
        kinds = _ENTRIES.get(engine)
        if kinds is None:
            kinds = _ENTRIES[engine] = {name: _Entry() for name in KINDS}
        return kinds[kind]


def get(engine: Any, kind: str, key: Any) -> Any | None:
    """The cached value, or None when it must be read (none yet, too old, or a writer is at work)."""
    entry = _entry(engine, kind)
    with entry.lock:
        found = entry.values.get(key)
        if found is None or entry.writers or time.monotonic() - found[0] > MAX_AGE_S:
            return None
        return found[1]


def token(engine: Any, kind: str) -> int:
    """Taken before reading: put() stores only if nothing changed since."""
    entry = _entry(engine, kind)
    with entry.lock:
        return entry.generation


def put(engine: Any, kind: str, seen: int, key: Any, value: Any) -> None:
    """Keep a freshly read value, unless a writer started or finished since token() was taken."""
    entry = _entry(engine, kind)
    with entry.lock:
        if entry.generation == seen and not entry.writers:
            entry.values[key] = (time.monotonic(), value)


def _drop(entry: _Entry) -> None:
    entry.generation += 1
    entry.values.clear()


@event.listens_for(Engine, "before_cursor_execute")
def _watch(conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, many: bool) -> None:
    if statement.lstrip()[:1] not in _WRITE_HEADS:
        return
    match = _WRITE.match(statement)
    if match is None:
        return
    verb, table = match.group(1).split()[0].upper(), match.group(2).lower()
    marked: set[str] = conn.info.setdefault(_MARK, set())
    for kind, writes in KINDS.items():
        if kind in marked or not writes(verb, table, statement, many):
            continue
        entry = _entry(conn.engine, kind)
        with entry.lock:
            entry.writers += 1
            _drop(entry)
        marked.add(kind)
        conn.info.setdefault(_MARK + ":entries", []).append(entry)


@event.listens_for(Pool, "checkin")
def _release(_dbapi_conn: Any, record: Any) -> None:
    # The connection is back in the pool: its transaction has committed or rolled back.
    if record is None:
        return
    record.info.pop(_MARK, None)
    for entry in record.info.pop(_MARK + ":entries", ()):
        with entry.lock:
            entry.writers -= 1
            _drop(entry)
