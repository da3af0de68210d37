"""Fixtures of the API tests: the app in-process on a fresh SQLite copy of the migrated template."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hallcore.clock import ManualClock
from hallserver.app import create_app
from hallserver.settings import Settings


@pytest.fixture
def hall_client(sqlite_template: Path, clock: ManualClock, tmp_path: Path) -> Iterator[TestClient]:
    """The demo hall's app (lifespan run) with no login; tests add the headers they need."""
    shutil.copy(sqlite_template, tmp_path / "hall.db")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/hall.db", identity_key="k" * 32, secret_dir=tmp_path / "secret"
    )
    with TestClient(create_app(settings, clock)) as client:
        yield client
