"""Alembic environment of the city database: runs against the URL set by city.db.alembic_config."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from city.db.schema import metadata

config = context.config
target_metadata = metadata
VERSION_TABLE = config.get_main_option("version_table") or "city_alembic_version"


def run_migrations_offline() -> None:
    """Emit SQL without a connection (`hallq city migrate --sql`)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        version_table=VERSION_TABLE,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Apply migrations over a fresh connection."""
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, version_table=VERSION_TABLE)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
