"""Shared fixtures: the demo hall, a manual clock, real databases (SQLite file and PostgreSQL), the server's
settings for a test, and the app in-process behind a TestClient."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from hallcore.calendar import HOLIDAYS_FILE
from hallcore.clock import ManualClock
from hallserver.app import create_app
from hallserver.db import make_engine, session_scope, upgrade
from hallserver.services import windows
from hallserver.services.context import HallContext, load_context
from hallserver.services.keyring import Keyring
from hallserver.settings import Settings
from tests.pgserver import TempPostgres

if TYPE_CHECKING:
    from tests.bus.fixtures import HallBroker

pytest_plugins = ["tests.bus.fixtures", "tests.gateway.fixtures"]  # real broker and server, for every folder

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEMO_HALL = Path(__file__).resolve().parents[1] / "firmware_config" / "halls" / "demo"
TEST_KEY = b"hallq-test-identity-key-32-bytes!"
TEST_IDENTITY_KEY = "k" * 32  # the server's, through its settings
TEST_KEYRING = Keyring((("k1", b"hallq-test-data-key-32-bytes-abc"),))
BACKENDS = ["sqlite", "postgresql"]


def local(*args: int) -> datetime:
    """An aware datetime in the hall's zone: local(2026, 11, 23, 9, 30)."""
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


@pytest.fixture
def clock() -> ManualClock:
    """Monday 2026-11-23 09:00 in Shanghai, a normal working day, the moment the hall opens."""
    return ManualClock(local(2026, 11, 23, 9, 0))


@pytest.fixture
def ctx(clock: ManualClock) -> HallContext:
    """The demo hall on the manual clock."""
    return load_context(DEMO_HALL, HOLIDAYS_FILE, clock, TEST_KEY, TEST_KEYRING)


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real PostgreSQL: HALLQ_TEST_POSTGRES_URL (CI's server) or a throwaway local cluster."""
    given = os.environ.get("HALLQ_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    server = TempPostgres()
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test."""
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_url: str) -> Iterator[str]:
    """A migrated PostgreSQL database, used as the TEMPLATE of each test's database."""
    name = f"hallq_tpl_{uuid.uuid4().hex[:8]}"
    _pg_admin(postgres_url, f'CREATE DATABASE "{name}"')
    upgrade(make_url(postgres_url).set(database=name).render_as_string(hide_password=False))
    yield name
    _drop_database(postgres_url, name)


def _drop_database(url: str, name: str) -> None:
    """Drop a test database. Plain DROP: it stops an autovacuum worker on the database itself, whereas
    WITH (FORCE) refuses to unless the role may signal any backend (CI's role may not). A connection a
    test left open (ours, so ours to end) is terminated first."""
    try:
        _pg_admin(url, f'DROP DATABASE IF EXISTS "{name}"')
    except OperationalError:
        _pg_admin(
            url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            f" WHERE datname = '{name}' AND usename = current_user AND pid <> pg_backend_pid()",
        )
        _pg_admin(url, f'DROP DATABASE IF EXISTS "{name}"')


def _pg_admin(url: str, sql: str) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(sql))
    finally:
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for one test, on each backend in turn."""
    if request.param == "sqlite":
        target = tmp_path / "hallq.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    postgres_url = request.getfixturevalue("postgres_url")
    template = request.getfixturevalue("postgres_template")
    name = f"hallq_t_{uuid.uuid4().hex[:10]}"
    _pg_admin(postgres_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _drop_database(postgres_url, name)


@pytest.fixture
def engine(database_url: str, ctx: HallContext) -> Iterator[Engine]:
    """An engine on the fresh database with the demo hall's windows seeded."""
    eng = make_engine(database_url)
    with session_scope(eng) as s:
        windows.sync_windows(s, ctx.profile, ctx.now())
    yield eng
    eng.dispose()


TEST_PASSWORD = "Hallq-test-2026"


def login(client: Any, username: str) -> dict[str, str]:
    """Give a staff member a password through the real service, log in over HTTP, return the header."""
    from hallserver.services import auth

    hall = client.app.state.hall
    with session_scope(hall.engine) as s:
        auth.set_password(s, hall.ctx, username, TEST_PASSWORD)
    response = client.post("/api/v1/auth/login", json={"username": username, "password": TEST_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def fresh_sqlite(sqlite_template: Path, tmp_path: Path) -> str:
    """A copy of the migrated SQLite template at tmp_path/hall.db; its URL."""
    db = tmp_path / "hall.db"
    shutil.copy(sqlite_template, db)
    return f"sqlite:///{db}"


def hall_settings(database_url: str, tmp_path: Path, broker: HallBroker | None = None, **changes: Any) -> Settings:
    """The server's settings of the demo hall for one test: the given database, a fixed identity key and the
    secrets under tmp_path — or, given a test broker, its secrets, its address and a public URL. `changes`
    set any other field."""
    fields: dict[str, Any] = {
        "database_url": database_url,
        "identity_key": TEST_IDENTITY_KEY,
        "secret_dir": tmp_path / "secret",
    }
    if broker is not None:
        fields |= {
            "secret_dir": broker.secret_dir,
            "broker_host": broker.host,
            "broker_port": broker.port,
            "public_url": "http://hall.test:8000",
        }
    return Settings(**(fields | changes))


@pytest.fixture
def hall_client(sqlite_template: Path, clock: ManualClock, tmp_path: Path) -> Iterator[TestClient]:
    """The demo hall's app (lifespan run, no bus) on a fresh SQLite copy, with no login; tests add the headers
    they need."""
    with TestClient(create_app(hall_settings(fresh_sqlite(sqlite_template, tmp_path), tmp_path), clock)) as client:
        yield client


@pytest.fixture
def backend_client(database_url: str, clock: ManualClock, tmp_path: Path) -> Iterator[TestClient]:
    """As hall_client, on each database backend in turn."""
    with TestClient(create_app(hall_settings(database_url, tmp_path), clock)) as client:
        yield client


# The slowest files start first, so that with `--dist loadfile` neither worker is left running one long file
# alone at the end. Measured with `pytest --durations`; the order of everything else is unchanged.
SLOW_FIRST = (
    "tests/kiosk/test_screens_access.py",
    "tests/kiosk/test_kiosk_ui.py",
    "tests/e2e/test_demo_floor.py",
    "tests/gateway/test_kiosk_storm.py",
    "tests/e2e/test_run_lifecycle.py",
    "tests/e2e/test_cli_and_server.py",
    "tests/city/test_fault.py",
    "tests/fault/test_faults.py",
    "tests/e2e/test_demo_clock.py",
    "tests/api/test_schema_fuzz.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Move the known-slow files to the front, keeping each file's tests together and in order."""
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    root = Path(str(config.rootpath))

    def key(pair: tuple[int, pytest.Item]) -> tuple[int, int]:
        index, item = pair
        relative = Path(str(item.path)).relative_to(root).as_posix()
        return (rank.get(relative, len(rank)), index)

    items[:] = [item for _, item in sorted(enumerate(items), key=key)]
