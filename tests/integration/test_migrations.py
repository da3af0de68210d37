"""Alembic migrations on both backends: they build the models' schema exactly, and go down and up."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

import hallserver.models  # noqa: F401
from hallserver.db import downgrade, upgrade

TABLES = {
    "window",
    "window_group",
    "ticket",
    "ticket_counter",
    "ticket_event",
    "request_log",
    "alembic_version",
    "person",
    "visit",
    "serial_counter",
    "service_case",
    "case_event",
    "evaluation",
    "rectification",
    "audit_log",
    "appointment_slot",
    "booking",
    "booking_suspension",
    "credential",
    "auth_token",
    "notify_contact",
    "notify_subscription",
    "notify_outbox",
    "notify_delivery",
    "supplement_watch",
    "department_event",
    "complaint",  # complaints and 办不成事 (0013)
    "complaint_event",
    "sync_outbox",  # the city link's outbox (0014)
    "sync_state",
}


def test_migrations_match_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


def test_downgrade_to_base_and_back(database_url: str) -> None:
    engine = create_engine(database_url)
    assert set(inspect(engine).get_table_names()) == TABLES
    downgrade(database_url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(database_url)
    upgrade(database_url)  # idempotent
    assert set(inspect(engine).get_table_names()) == TABLES
    engine.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path: object) -> None:
    from hallserver.db import make_engine

    url = f"sqlite:///{tmp_path}/wal.db"
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
