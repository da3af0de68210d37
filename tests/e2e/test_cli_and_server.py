"""The `hallq` command as a newcomer runs it: checks, migrations and a real server on a free port."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from tests.conftest import DEMO_HALL

HALLQ = str(Path(sys.executable).parent / "hallq")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HALLQ, *args], capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}
    )


def test_catalog_check_reports_the_demo() -> None:
    result = run("catalog", "check")
    assert result.returncode == 0, result.stderr
    assert "事项目录校验通过" in result.stdout and "社会保险（social_security）" in result.stdout


def test_catalog_check_fails_naming_the_file(tmp_path: Path) -> None:
    hall = tmp_path / "hall"
    shutil.copytree(DEMO_HALL, hall)
    path = hall / "catalog" / "marriage.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["items"][0]["materials"][0]["name"] = "有关材料"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = run("catalog", "check", "--hall-dir", str(hall))
    assert result.returncode == 1
    assert "marriage.yaml" in result.stderr and "有关材料" in result.stderr


def test_hall_check_summarises_the_hall() -> None:
    result = run("hall", "check")
    assert result.returncode == 0, result.stderr
    assert "20 个窗口" in result.stdout


def test_catalog_search_command() -> None:
    result = run("catalog", "search", "jzz")
    assert result.returncode == 0 and result.stdout.splitlines()[0].endswith("居住证申领  [居住登记与居住证]")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(tmp_path: Path, clock_start: str) -> Iterator[tuple[str, list[str]]]:
    """`hallq db upgrade` then `hallq serve` on a free port with the hall clock set; yields the base
    URL and, after the server stopped, its output lines."""
    env = {
        **os.environ,
        "HALLQ_DATABASE_URL": f"sqlite:///{tmp_path}/hall.db",
        "HALLQ_SECRET_DIR": str(tmp_path / "secret"),
        "HALLQ_CLOCK_START": clock_start,
    }
    assert subprocess.run([HALLQ, "db", "upgrade"], env=env, capture_output=True, timeout=120).returncode == 0
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [HALLQ, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 90  # a loaded machine may take long to import and migrate-check
        while server.poll() is None and time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base}/api/v1/hall", timeout=2).close()
                break
            except OSError:
                time.sleep(0.2)
        yield base, output
    finally:
        server.terminate()
        output.extend(server.communicate(timeout=20)[0].splitlines())


def _json(url: str, body: dict[str, object] | None = None, token: str | None = None) -> tuple[int, dict[str, object]]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, json.load(response)


def test_upgrade_then_serve_the_demo_hall(tmp_path: Path) -> None:
    with served(tmp_path, "2026-11-23T09:00:00+08:00") as (base, output):  # a Monday morning
        status, hall = _json(f"{base}/api/v1/hall")
        assert status == 200 and hall["name"] == "南山区政务服务中心" and hall["is_open"] is True
        assert str(hall["now"]).startswith("2026-11-23T09:0")
        env = {
            "HALLQ_DATABASE_URL": f"sqlite:///{tmp_path}/hall.db",
            "HALLQ_SECRET_DIR": str(tmp_path / "secret"),
        }
        assert run("user", "passwd", "m01", "--password", "Desk-2026x", env=env).returncode == 0
        token = _json(f"{base}/api/v1/auth/login", {"username": "m01", "password": "Desk-2026x"})[1]["token"]
        status, issued = _json(f"{base}/api/v1/tickets", {"group": "consult"}, token=str(token))
        assert status == 201 and issued["ticket"] == "G001"  # type: ignore[index]
        assert (tmp_path / "secret" / "identity.key").exists()
    text = "\n".join(output)
    assert f"{base}/docs" in text and "大厅时间 2026-11-23 09:00，正在办公" in text


def test_serve_says_when_the_hall_opens(tmp_path: Path) -> None:
    with served(tmp_path, "2026-10-01T10:00:00+08:00") as (base, output):  # 国庆节
        assert _json(f"{base}/api/v1/hall")[1]["is_open"] is False
    text = "\n".join(output)
    assert "非办公时间，2026-10-08 09:00 开始取号" in text
    assert "HALLQ_CLOCK_START=2026-10-08T09:00:00+08:00" in text


def test_run_starts_the_broker_and_the_gateway(tmp_path: Path) -> None:
    # What `make run` does: migrate, render the hall's broker, serve with the gateway.
    broker_root = Path(tempfile.mkdtemp(prefix="hallq-run-"))
    broker_root.chmod(0o755)  # mosquitto drops to its own user
    port, mqtt_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "HALLQ_DATABASE_URL": f"sqlite:///{tmp_path}/hall.db",
        "HALLQ_SECRET_DIR": str(tmp_path / "secret"),
        "HALLQ_BROKER_DIR": str(broker_root / "broker"),
        "HALLQ_BROKER_PORT": str(mqtt_port),
        "HALLQ_CLOCK_START": "2026-11-23T09:00:00+08:00",
    }
    server = subprocess.Popen(
        [HALLQ, "run", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        devices = None
        deadline = time.monotonic() + 90  # broker, migrations and server on a loaded machine
        while server.poll() is None and time.monotonic() < deadline:
            try:
                devices = _json(f"http://127.0.0.1:{port}/api/v1/devices")[1]
                break
            except OSError:
                time.sleep(0.2)
        assert devices is not None and len(devices) == 91
        password = (tmp_path / "secret" / "broker" / "display-w05.password").read_text()
        state = subprocess.run(
            [
                "mosquitto_sub",
                "-h",
                "127.0.0.1",
                "-p",
                str(mqtt_port),
                "-V",
                "mqttv5",
                "-u",
                "display-w05",
                "-P",
                password,
                "-i",
                "display-w05",
                "-t",
                "hall/demo/window/w05/state",
                "-C",
                "1",
                "-W",
                "5",
            ],
            capture_output=True,
            text=True,
            timeout=10,
        )
        assert state.returncode == 0, state.stderr
        assert json.loads(state.stdout)["name"] == "5号窗口"
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0]
        shutil.rmtree(broker_root, ignore_errors=True)
    assert f"消息代理已启动：mqtt://127.0.0.1:{mqtt_port}" in output
    assert f"消息总线   mqtt://127.0.0.1:{mqtt_port}" in output


def test_clock_start_must_carry_an_offset() -> None:
    result = run("serve", env={"HALLQ_CLOCK_START": "2026-11-23T09:00:00"})
    assert result.returncode != 0 and "UTC offset" in result.stderr


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    result = run("serve", env={"HALLQ_DATABASE_URL": f"sqlite:///{tmp_path}/none.db"})
    assert result.returncode == 1 and "hallq db upgrade" in result.stderr
