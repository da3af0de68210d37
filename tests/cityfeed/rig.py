"""A test rig for the city ↔ hall HTTP link: a city database on the real PostgreSQL, the city API served by
uvicorn on a loopback port, and hall apps (copies of the demo hall with a `city:` section) pointing at it."""

from __future__ import annotations

import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
import yaml
from fastapi import FastAPI
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from city.api import create_city_app
from city.auth import set_user
from city.db import make_engine, upgrade
from city.settings import CitySettings
from hallcore.clock import Clock
from tests.conftest import _drop_database

DEMO_HALL = Path(__file__).resolve().parents[2] / "firmware_config" / "halls" / "demo"
ADMIN_PASSWORD = "City-test-2026"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def city_database(postgres_url: str) -> Iterator[Engine]:
    """A fresh city database on the test PostgreSQL, migrated by the city's own Alembic migrations."""
    name = f"city_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        admin.dispose()
        _drop_database(postgres_url, name)


def city_app(engine: Engine, clock: Clock | None = None, **state: Any) -> FastAPI:
    """The real city app (`create_city_app`) on this database; a city admin `admin1` exists (ADMIN_PASSWORD)."""
    settings = CitySettings(database_url=engine.url.render_as_string(hide_password=False), city_id="testcity")
    set_user(engine, "admin1", ADMIN_PASSWORD, "admin", "市级管理员", datetime.now(UTC))
    set_user(engine, "viewer1", ADMIN_PASSWORD, "viewer", "市级查看员", datetime.now(UTC))
    return create_city_app(settings, clock, **state)


def login(base_url: str, username: str = "admin1") -> dict[str, str]:
    """A city user's bearer header, through the real login endpoint."""
    import httpx2 as httpx

    answer = httpx.post(f"{base_url}/api/v1/auth/login", json={"username": username, "password": ADMIN_PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


class Served:
    """A uvicorn server on a loopback port, in a thread."""

    def __init__(self, app: FastAPI, port: int | None = None) -> None:
        self.port = port or free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "the city API did not start"
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def hall_copy(
    root: Path, hall_id: str, code: str, city: str, api_url: str, token: str | None, broker_port: int = 1883
) -> tuple[Path, Path]:
    """A copy of the demo hall linked to the city: (hall folder, secret folder with the API token)."""
    folder = root / f"hall-{hall_id}"
    shutil.copytree(DEMO_HALL, folder)
    profile = yaml.safe_load((folder / "hall.yaml").read_text(encoding="utf-8"))
    profile["hall"]["id"] = hall_id
    profile["hall"]["code"] = code
    profile["city"] = {
        "city": city,
        "broker_host": "127.0.0.1",
        "broker_port": broker_port,
        "tls": False,
        "bridge_username": f"bridge-{code}",
        "api_url": api_url,
    }
    (folder / "hall.yaml").write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
    secret = root / f"state-{hall_id}" / "secret"
    (secret / "city").mkdir(parents=True)
    if token is not None:
        (secret / "city" / "api.token").write_text(token + "\n", encoding="ascii")
    return folder, secret


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def catalog_files() -> dict[str, str]:
    """The demo hall's catalog as a bundle."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((DEMO_HALL / "catalog").glob("*.yaml"))}
