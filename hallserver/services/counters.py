"""Atomic daily counters (an upsert that increments and returns), for numbers that are never reused."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel


def increment(session: Session, table: type[SQLModel], **keys: Any) -> int:
    """Add one to the `last` column of the row with these keys (creating it at 1) and return it.
    The row stays locked until the transaction ends, so concurrent callers never share a value."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    columns = table.__table__.c  # type: ignore[attr-defined]
    stmt = (
        insert(table)
        .values(**keys, last=1)
        .on_conflict_do_update(index_elements=list(keys), set_={"last": columns.last + 1})
        .returning(columns.last)
    )
    return int(session.execute(stmt).scalar_one())
