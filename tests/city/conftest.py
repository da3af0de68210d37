"""City fixtures: a migrated city database on the real PostgreSQL (a template copied per test), a manual
clock, registered halls, and record builders that follow hallcore.sync's contract."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from city.db import make_engine, upgrade
from city.registry import assign_hall
from city.store import Incoming, Store
from hallcore.clock import ManualClock
from hallcore.sync import (
    CaseRecord,
    DeviceHealthRecord,
    EvaluationRecord,
    QueueSnapshotRecord,
    RectificationRecord,
    VisitRecord,
    envelope,
)
from tests.conftest import _drop_database, _pg_admin

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=SHANGHAI)


@pytest.fixture(scope="session")
def city_template(postgres_url: str) -> Iterator[str]:
    """A city database migrated once, the TEMPLATE of each test's database."""
    name = f"city_tpl_{uuid.uuid4().hex[:8]}"
    _pg_admin(postgres_url, f'CREATE DATABASE "{name}"')
    upgrade(make_url(postgres_url).set(database=name).render_as_string(hide_password=False))
    yield name
    _drop_database(postgres_url, name)


@pytest.fixture
def city_url(postgres_url: str, city_template: str) -> Iterator[str]:
    """A fresh, migrated city database for one test."""
    name = f"city_t_{uuid.uuid4().hex[:10]}"
    _pg_admin(postgres_url, f'CREATE DATABASE "{name}" TEMPLATE "{city_template}"')
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _drop_database(postgres_url, name)


@pytest.fixture
def city_clock() -> ManualClock:
    """Monday 2026-11-23 15:00 in Shanghai."""
    return ManualClock(NOW)


@pytest.fixture
def city_engine(city_url: str) -> Iterator[Engine]:
    """An engine on the test's city database with halls 0001 (区), 0002 (街道) and 0003 (社区) registered."""
    engine = make_engine(city_url)
    assign_hall(engine, name="南山区政务服务中心", level="区县级", region_code="440305", hall_id="demo", now=NOW)
    assign_hall(engine, name="粤海街道便民服务中心", level="街道", region_code="440305", hall_id="yuehai", now=NOW)
    assign_hall(engine, name="科技园社区党群服务中心", level="社区", region_code="440305", hall_id="kejiyuan", now=NOW)
    yield engine
    engine.dispose()


@pytest.fixture
def store(city_engine: Engine, city_clock: ManualClock) -> Store:
    """The ingest's store on the test database."""
    return Store(city_engine, city_clock)


def visit(
    n: int, day: date = NOW.date(), wait_min: int = 10, department: str = "市公安局", item: str = "A1"
) -> VisitRecord:
    """A finished visit on `day`, waiting `wait_min` minutes."""
    arrived = datetime(day.year, day.month, day.day, 9, 0, tzinfo=SHANGHAI) + timedelta(minutes=n % 400)
    return VisitRecord(
        visit_id=n,
        ticket=f"A{n % 1000:03d}",
        service_date=day,
        group="police",
        item_code=item,
        department=department,
        window_id="w01",
        staff_id="s01",
        channel="kiosk",
        priority="normal",
        arrived_at=arrived,
        called_at=arrived + timedelta(minutes=wait_min),
        ended_at=arrived + timedelta(minutes=wait_min + 5),
        wait_s=wait_min * 60,
        service_s=300,
        outcome="办结",
    )


def evaluation(n: int, level_gb: int = 1, at: datetime = NOW, department: str = "市公安局") -> EvaluationRecord:
    """A rating, GB code 1 = 非常满意 … 5."""
    return EvaluationRecord(
        evaluation_id=n,
        visit_id=n,
        level_gb=level_gb,
        is_bad=level_gb >= 4,
        channel="evaluator",
        item_code="A1",
        department=department,
        window_id="w01",
        at=at,
    )


def case(
    serial: str, status: str = "已受理", promised: date = date(2026, 11, 20), decided: datetime | None = None
) -> CaseRecord:
    """A case record (no plaintext personal data: the person is a hash)."""
    return CaseRecord(
        serial_no=serial,
        item_code="A1",
        item_name="居住证签注",
        department="市公安局",
        status=status,
        at=decided or NOW - timedelta(days=5),
        accepted_at=NOW - timedelta(days=5),
        promised_date=promised,
        decided_at=decided,
        person_hash="a" * 64,
    )


def rectification(
    n: int, deadline: date, state: str = "待整改", closed: datetime | None = None, on_time: bool | None = None
) -> RectificationRecord:
    """A 差评 rectification."""
    return RectificationRecord(
        rectification_id=n,
        evaluation_id=n,
        visit_id=n,
        department="市公安局",
        window_id="w01",
        state=state,
        opened_at=NOW - timedelta(days=10),
        deadline=deadline,
        closed_at=closed,
        on_time=on_time,
    )


def queue_snapshot(
    at: datetime = NOW, waiting: int = 12, longest: int = 25, open_windows: int = 6
) -> QueueSnapshotRecord:
    """The queue at one moment."""
    return QueueSnapshotRecord(at=at, waiting=waiting, open_windows=open_windows, longest_wait_min=longest)


def health(at: datetime = NOW, online: int = 20, offline: int = 0) -> DeviceHealthRecord:
    """Device health at one moment."""
    return DeviceHealthRecord(at=at, online=online, offline=offline, problems=["printer-02"] if offline else [])


def message(hall: str, seq: int, record: Any, topic_hall: str | None = None, ts: datetime = NOW) -> Incoming:
    """The message a hall's bridge would deliver: topic hall/{hall}/sync/up/{stream}, the envelope as JSON."""
    env = envelope(hall, seq, ts, record)
    from hallcore.sync import stream_of

    return Incoming(f"hall/{topic_hall or hall}/sync/up/{stream_of(env.kind).value}", env.model_dump_json().encode())


def count(engine: Engine, sql: str, **params: Any) -> int:
    """A single number from the database."""
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar() or 0)
