"""The `hallq` command as a newcomer runs it: checks, migrations and a real server on a free port."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
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


def test_upgrade_then_serve_the_demo_hall(tmp_path: Path) -> None:
    env = {
        "HALLQ_DATABASE_URL": f"sqlite:///{tmp_path}/hall.db",
        "HALLQ_SECRET_DIR": str(tmp_path / "secret"),
    }
    assert run("db", "upgrade", env=env).returncode == 0
    port = _free_port()
    server = subprocess.Popen(
        [HALLQ, "serve", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        hall = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/hall", timeout=2) as response:
                    hall = json.load(response)
                break
            except OSError:
                time.sleep(0.1)
        assert hall is not None, "server did not answer"
        assert hall["name"] == "南山区政务服务中心"
        assert (tmp_path / "secret" / "identity.key").exists()
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert f"http://127.0.0.1:{port}/docs" in output


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    result = run("serve", env={"HALLQ_DATABASE_URL": f"sqlite:///{tmp_path}/none.db"})
    assert result.returncode == 1 and "hallq db upgrade" in result.stderr
