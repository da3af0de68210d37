"""Database engine and migrations: SQLite with WAL by default, PostgreSQL by URL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_MS = 30_000
_READ_ONLY = "hallq_read_only"
# SQLite has one writer at a time; threads of this process queue on a lock instead of polling
# SQLite's busy handler, which sleeps in growing steps and turns contention into long tails.
_SQLITE_WRITE_LOCKS: WeakKeyDictionary[Engine, threading.RLock] = WeakKeyDictionary()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine tuned for the hall: WAL and serialized writers on SQLite, a pool on PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kwargs)
    ensure_database_dir(url)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_MS / 1000}, **kwargs)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    _SQLITE_WRITE_LOCKS[engine] = threading.RLock()
    return engine


def ensure_database_dir(url: str) -> None:
    """Create the folder of a SQLite file (a fresh checkout has no var/); nothing to do for a server URL."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:") and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (below) instead of pysqlite's deferred transactions.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        f"busy_timeout={SQLITE_BUSY_MS}",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    # IMMEDIATE takes the write lock up front: two kiosks can never read the same counter and both
    # upgrade to writers (which deadlocks or duplicates under deferred transactions). A read_scope session
    # only reads: a deferred transaction, which in WAL mode never waits for the writer nor makes it wait.
    read_only = conn.get_execution_options().get(_READ_ONLY, False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with _SQLITE_WRITE_LOCKS.get(engine) or nullcontext(), Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """A session that only reads (publishing retained state, for instance): it takes no write lock, sees the
    last committed state, and is rolled back at the end (nothing written through it is ever committed)."""
    with Session(engine, expire_on_commit=False) as session:
        session.connection(execution_options={_READ_ONLY: True})
        try:
            yield session
        finally:
            session.rollback()


def alembic_config(url: str) -> Config:
    """Alembic configuration without an ini file."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to a revision (creating the SQLite file's folder first)."""
    ensure_database_dir(url)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Revert migrations down to a revision."""
    command.downgrade(alembic_config(url), revision)
