"""The city database: engine, transactions and its own Alembic migrations (PostgreSQL only)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import make_url

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
VERSION_TABLE = "city_alembic_version"  # its own, so a city and a hall never share migration state


class NotPostgres(ValueError):
    """The city database must be PostgreSQL."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """A pooled PostgreSQL engine; refuses any other backend with a clear message."""
    if make_url(url).get_backend_name() != "postgresql":
        raise NotPostgres("城市数据库只支持 PostgreSQL（postgresql+psycopg://…）")
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 10)
    return create_engine(url, pool_pre_ping=True, **kwargs)


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that commits on success and rolls back on any error."""
    with engine.begin() as conn:
        yield conn


def alembic_config(url: str) -> Config:
    """Alembic configuration without an ini file (as the hall server does)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.set_main_option("version_table", VERSION_TABLE)
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply the city's migrations up to a revision."""
    if make_url(url).get_backend_name() != "postgresql":
        raise NotPostgres("城市数据库只支持 PostgreSQL（postgresql+psycopg://…）")
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Revert the city's migrations down to a revision."""
    command.downgrade(alembic_config(url), revision)
