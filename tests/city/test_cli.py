"""`hallq city …` as an operator runs it: migrate, register halls, add an account, and the ingest as real
worker processes (spawned) that store what a hall publishes and stop cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner, Result

from city.broker import INGEST_USERNAME, CityBroker, bridge_username
from city.cli import app as city_cli
from hallq.cli import COMMANDS
from tests.bus.fixtures import Probe
from tests.city.conftest import SHANGHAI, count, message, visit
from tests.city.test_ingest_mqtt import city_broker  # noqa: F401  (the city Mosquitto fixture)

HALLQ = [str(Path(sys.executable).with_name("hallq"))]


def _env(city_url: str, broker: CityBroker | None = None) -> dict[str, str]:
    env = {**os.environ, "HALLQ_CITY_DATABASE_URL": city_url, "HALLQ_CITY_ROLLUP_INTERVAL_S": "1"}
    if broker is not None:
        env |= {
            "HALLQ_CITY_BROKER_HOST": broker.host,
            "HALLQ_CITY_BROKER_PORT": str(broker.port),
            "HALLQ_CITY_BROKER_PASSWORD": broker.account(INGEST_USERNAME).password,
            "HALLQ_CITY_CLIENT_ID_PREFIX": "cli-ingest",
        }
    return env


def _run(env: dict[str, str], *args: str) -> Result:
    """One `hallq city` command in-process (the same Typer app the hallq entry point loads)."""
    assert COMMANDS["city"] == "city.cli:app"
    return CliRunner().invoke(city_cli, list(args), env=env)


def test_migrate_register_and_accounts(city_url: str) -> None:
    env = _env(city_url)
    done = _run(env, "migrate")
    assert done.exit_code == 0, done.output
    assert "城市数据库已是最新版本" in done.stdout
    added = _run(
        env,
        "hall",
        "add",
        "--name",
        "福田区政务服务中心",
        "--level",
        "区县级",
        "--region-code",
        "440304",
        "--hall-id",
        "futian",
    )
    assert added.exit_code == 0, added.output
    assert added.stdout.startswith("0001\t福田区政务服务中心\t区\t桥接账号 bridge-0001")
    refused = _run(env, "hall", "add", "--name", "省中心", "--level", "省级", "--region-code", "440000")
    assert refused.exit_code == 1 and "四级" in refused.output
    assert _run(env, "hall", "list").stdout.splitlines() == ["0001\t福田区政务服务中心\t区\t440304\thall\tbridge-0001"]
    user = _run(env, "user", "add", "ops", "--role", "admin", "--password", "Ops-pass-2026")
    assert user.exit_code == 0 and "已保存" in user.stdout
    weak = _run(env, "user", "add", "ops2", "--password", "12345678")
    assert weak.exit_code == 1 and "字母和数字" in weak.output
    wrong = _run({**env, "HALLQ_CITY_DATABASE_URL": "sqlite:///x.db"}, "migrate")
    assert wrong.exit_code == 2 and "PostgreSQL" in wrong.output
    # Every command closed its connections: none of them is left on the database.
    looker = create_engine(city_url, poolclass=NullPool)
    try:
        left = count(
            looker,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
    finally:
        looker.dispose()
    assert left == 0


def test_ingest_worker_processes_store_and_stop_on_sigterm(
    city_url: str,
    city_engine: Engine,
    city_broker: CityBroker,  # noqa: F811
) -> None:
    proc = subprocess.Popen(
        [*HALLQ, "city", "ingest", "--workers", "2"],
        env=_env(city_url, city_broker),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        account = city_broker.account(bridge_username("0001"))
        hall = Probe(city_broker, account.username, account.password, client_id="cli-test-bridge")  # type: ignore[arg-type]
        assert hall.connect() == 0
        assert hall.subscribe("hall/0001/sync/ack") == 1
        deadline = time.monotonic() + 60
        first = message("0001", 1, visit(1, day=time_today()))
        while hall.publish(first.topic, first.payload) == 16:  # no subscriber yet: workers still starting
            assert time.monotonic() < deadline, "the ingest workers never subscribed"
            time.sleep(0.2)
        for seq in range(2, 41):
            msg = message("0001", seq, visit(seq, day=time_today()))
            assert hall.publish(msg.topic, msg.payload) == 0
        while count(city_engine, "SELECT upto FROM hall_watermark WHERE hall = '0001'") < 40:
            assert time.monotonic() < deadline, "records not stored"
            time.sleep(0.2)
        acks = [0]
        while acks[-1] < 40:  # acks may arrive at 0 first (a worker stored seq 2 before seq 1)
            acks.append(json.loads(hall.messages.get(timeout=10).payload)["upto"])
        while count(city_engine, "SELECT count(*) FROM rollup_daily") == 0:  # the parent refreshes rollups
            assert time.monotonic() < deadline, "rollups never refreshed"
            time.sleep(0.2)
        hall.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert count(city_engine, "SELECT count(*) FROM rec_visits") == 40


def time_today() -> date:
    """Today in Shanghai (the ingest processes check record times against the real clock)."""
    return datetime.now(SHANGHAI).date()
