"""Provisioning the demo hall: per-device credentials, config and systemd units that systemd accepts."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from pydantic import TypeAdapter
from typer.testing import CliRunner

from firmware_config.cli import provision_command
from firmware_config.credentials import device_account
from firmware_config.devices import ALLOWED_ACTIONS, BUS_KIND, DeviceProfile, DeviceSet
from firmware_config.hall import HallProfile
from firmware_config.provision import (
    BrokerEndpoint,
    ProvisionError,
    ProvisionResult,
    device_config,
    load_hall_devices,
    provision,
)
from kiosk import watchdog
from tests.conftest import DEMO_HALL

# An executable that exists here, so `systemd-analyze verify` can check ExecStart for real.
HALLQ = str(Path(sys.executable).parent / "hallq")
SUBCOMMANDS = {
    "kiosk": "kiosk",
    "window_display": "display",
    "hall_display": "display",
    "printer": "printer-agent",
    "evaluator": "evaluator",
    "caller": "caller",
    "pickup_cabinet": "cabinet",
}
PEM = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n"


@dataclass
class Provisioned:
    """One provisioning run of the demo hall."""

    result: ProvisionResult
    hall: HallProfile
    devices: DeviceSet
    secret_dir: Path
    out: Path


def _env(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def _copy_hall(tmp_path: Path) -> Path:
    hall_dir = tmp_path / "hall"
    hall_dir.mkdir()
    for name in ("hall.yaml", "devices.yaml"):
        shutil.copy(DEMO_HALL / name, hall_dir / name)
    return hall_dir


def _verify(units: list[Path]) -> None:
    """Run `systemd-analyze verify` on the units; fail on a non-zero code or any complaint about them."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.fail("systemd-analyze is missing: install the Debian package `systemd` (make setup does)")
    proc = subprocess.run(
        [tool, "verify", "--man=no", *map(str, units)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = proc.stdout + proc.stderr
    words = ("error", "warning", "unknown", "ignoring", "failed", "not safe", "hallq-")
    complaints = [line for line in output.splitlines() if any(w in line.lower() for w in words)]
    assert proc.returncode == 0, output
    assert not complaints, output


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Provisioned:
    base = tmp_path_factory.mktemp("provision")
    secret_dir, out = base / "secret", base / "out"
    result = provision(DEMO_HALL, secret_dir, out, "10.20.0.5", 1883, exec_prefix=HALLQ, user="root")
    hall, devices = load_hall_devices(DEMO_HALL)
    return Provisioned(result, hall, devices, secret_dir, out)


def test_every_device_gets_its_three_files_and_the_readme(demo: Provisioned) -> None:
    assert len(demo.devices.devices) == 91
    for d in demo.devices.devices:
        folder = demo.out / d.id
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            ["credentials.env", "device.json", f"hallq-{d.id}.service"]
        )
    readme = (demo.out / "README.txt").read_text(encoding="utf-8")
    assert "/etc/hallq/" in readme and "/etc/systemd/system" in readme
    assert all(d.id in readme for d in demo.devices.devices)
    assert demo.result.by_type() == {
        "kiosk": 4,
        "printer": 24,
        "window_display": 20,
        "evaluator": 20,
        "caller": 20,
        "hall_display": 2,
        "pickup_cabinet": 1,
    }
    assert "共 91 台设备" in demo.result.summary() and "打印机（printer）：24" in demo.result.summary()


def test_credentials_are_private_and_match_the_secret_store(demo: Provisioned) -> None:
    passwords = set()
    for d in demo.devices.devices:
        path = demo.out / d.id / "credentials.env"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, d.id
        env = _env(path)
        assert env["HALLQ_BROKER_PASSWORD"] == device_account(demo.secret_dir, d.id).password
        assert env["HALLQ_BROKER_USERNAME"] == env["HALLQ_DEVICE_ID"] == d.id
        assert env["HALLQ_HALL_ID"] == "demo"
        assert (env["HALLQ_BROKER_HOST"], env["HALLQ_BROKER_PORT"]) == ("10.20.0.5", "1883")
        assert env["HALLQ_BROKER_TLS"] == "false"
        assert "HALLQ_BROKER_CA_FILE" not in env
        passwords.add(env["HALLQ_BROKER_PASSWORD"])
    assert len(passwords) == 91 and all(len(p) >= 24 for p in passwords)


def test_device_json_is_the_profile_without_secrets(demo: Provisioned) -> None:
    adapter: TypeAdapter[DeviceProfile] = TypeAdapter(DeviceProfile)
    broker = BrokerEndpoint("10.20.0.5", 1883)
    for d in demo.devices.devices:
        text = (demo.out / d.id / "device.json").read_text(encoding="utf-8")
        config: dict[str, Any] = json.loads(text)
        assert config == device_config(demo.hall, d, broker)
        assert config["profile"] == d.model_dump(mode="json")
        assert adapter.validate_python(config["profile"]) == d  # a device can re-validate what it gets
        assert (config["hall"], config["device_id"], config["type"]) == ("demo", d.id, d.type)
        assert config["bus_kind"] == BUS_KIND[d.type]
        assert config["allowed_actions"] == list(ALLOWED_ACTIONS[d.type])
        assert config["broker"] == {"host": "10.20.0.5", "port": 1883, "tls": False, "ca_file": None}
        assert config["schema_version"] == 1
        assert device_account(demo.secret_dir, d.id).password not in text
        assert "password" not in text.lower()


def test_units_run_the_right_command_and_pass_systemd_verify(demo: Provisioned) -> None:
    units = []
    for d in demo.devices.devices:
        unit = demo.out / d.id / f"hallq-{d.id}.service"
        text = unit.read_text(encoding="utf-8")
        assert f"ExecStart={HALLQ} {SUBCOMMANDS[d.type]} --device {d.id}\n" in text
        assert f"EnvironmentFile=/etc/hallq/{d.id}/credentials.env\n" in text
        for line in (
            "Type=notify",
            "WatchdogSec=30",
            "Restart=on-failure",
            "User=root",
            "NoNewPrivileges=yes",
        ):
            assert f"\n{line}\n" in text, (d.id, line)
        screen = d.type in ("kiosk", "window_display", "hall_display", "evaluator")
        assert ("Environment=DISPLAY=:0" in text) is screen, d.id
        assert text.rstrip().endswith("graphical.target" if screen else "multi-user.target"), d.id
        units.append(unit)
    assert "Description=hallq 自助终端 一楼大厅1号自助机（kiosk-01）" in units[0].read_text(encoding="utf-8")
    _verify(units)


def test_hardware_devices_get_their_groups_and_still_verify(tmp_path: Path) -> None:
    hall_dir = _copy_hall(tmp_path)
    data = yaml.safe_load((hall_dir / "devices.yaml").read_text(encoding="utf-8"))
    entries = {e["id"]: e for e in data["devices"]}
    entries["printer-w01"]["connection"] = {"type": "serial", "port": "/dev/ttyS1"}
    entries["printer-w02"]["connection"] = {"type": "file", "path": "/dev/usb/lp0"}
    entries["kiosk-01"]["id_reader"] = {"type": "serial", "port": "/dev/ttyUSB0"}
    entries["eval-w01"]["keybox"] = {"type": "serial", "port": "/dev/ttyS2", "baudrate": 9600}
    (hall_dir / "devices.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    provision(hall_dir, tmp_path / "secret", out, "10.20.0.5", 1883, exec_prefix=HALLQ, user="root")
    expected = {
        "printer-w01": "SupplementaryGroups=dialout\n",
        "printer-w02": "SupplementaryGroups=lp\n",
        "kiosk-01": "SupplementaryGroups=audio dialout video\n",
        "eval-w01": "SupplementaryGroups=dialout\n",
    }
    units = [out / device / f"hallq-{device}.service" for device in expected]
    for unit, line in zip(units, expected.values(), strict=True):
        assert line in unit.read_text(encoding="utf-8"), unit.name
    keybox = units[-1].read_text(encoding="utf-8")
    assert "DISPLAY" not in keybox and "WantedBy=multi-user.target" in keybox  # a key box has no screen
    _verify(units)


def test_tls_ships_the_ca_and_points_every_device_to_it(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text(PEM, encoding="ascii")
    out = tmp_path / "out"
    provision(DEMO_HALL, tmp_path / "secret", out, "broker.hall.local", 8883, tls=True, ca_file=ca)
    env = _env(out / "caller-w03" / "credentials.env")
    assert env["HALLQ_BROKER_TLS"] == "true"
    assert env["HALLQ_BROKER_CA_FILE"] == "/etc/hallq/caller-w03/ca.crt"
    assert (out / "caller-w03" / "ca.crt").read_text(encoding="ascii") == PEM
    config = json.loads((out / "caller-w03" / "device.json").read_text(encoding="utf-8"))
    assert config["broker"] == {
        "host": "broker.hall.local",
        "port": 8883,
        "tls": True,
        "ca_file": "/etc/hallq/caller-w03/ca.crt",
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tls": True}, "CA 证书"),
        ({"tls": True, "ca_file": DEMO_HALL / "hall.yaml"}, "PEM"),
        ({"exec_prefix": "hallq"}, "绝对路径"),
        ({"user": "Bad User"}, "运行用户名"),
        ({"broker_host": "10.0.0.1\nHALLQ_X=1"}, "代理服务器地址"),
        ({"broker_host": "10.0.0.1\n"}, "代理服务器地址"),
    ],
)
def test_bad_arguments_are_refused_before_writing(tmp_path: Path, kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"broker_host": "10.20.0.5", "broker_port": 1883, **kwargs}
    with pytest.raises(ProvisionError, match=message):
        provision(DEMO_HALL, tmp_path / "secret", tmp_path / "out", **args)
    assert not (tmp_path / "out").exists()


def test_reprovisioning_keeps_passwords_and_names_stale_devices(tmp_path: Path) -> None:
    out, secret = tmp_path / "out", tmp_path / "secret"
    provision(DEMO_HALL, secret, out, "10.20.0.5", 1883)
    first = _env(out / "kiosk-01" / "credentials.env")["HALLQ_BROKER_PASSWORD"]
    (out / "kiosk-99").mkdir()
    (out / "kiosk-99" / "hallq-kiosk-99.service").write_text("[Unit]\n", encoding="utf-8")
    os.chmod(out / "kiosk-01" / "credentials.env", 0o644)  # an installer widened it by mistake
    result = provision(DEMO_HALL, secret, out, "10.20.0.5", 1883)
    path = out / "kiosk-01" / "credentials.env"
    assert _env(path)["HALLQ_BROKER_PASSWORD"] == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert result.stale == ("kiosk-99",)


# --- the CLI ---


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    app.command()(provision_command)
    return app


def test_cli_check_prints_the_summary_and_writes_nothing(tmp_path: Path, cli: typer.Typer) -> None:
    out, secret = tmp_path / "out", tmp_path / "secret"
    args = ["--hall-dir", str(DEMO_HALL), "--secret-dir", str(secret), "--out", str(out), "--check"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "设备配置校验通过" in result.output
    assert "共 91 台设备" in result.output
    assert "自助终端（kiosk）：4" in result.output and "叫号器（caller）：20" in result.output
    assert not out.exists() and not secret.exists()


def test_cli_provisions_the_hall(tmp_path: Path, cli: typer.Typer) -> None:
    out = tmp_path / "out"
    args = ["--hall-dir", str(DEMO_HALL), "--secret-dir", str(tmp_path / "secret"), "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, "--broker-host", "10.20.0.5", "--exec-prefix", HALLQ])
    assert result.exit_code == 0, result.output
    assert "共 91 台设备" in result.output and "README.txt" in result.output
    assert "未启用 TLS" in result.output
    assert len([p for p in out.iterdir() if p.is_dir()]) == 91


def test_cli_names_file_device_and_field_of_a_broken_profile(tmp_path: Path, cli: typer.Typer) -> None:
    hall_dir = _copy_hall(tmp_path)
    path = hall_dir / "devices.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    next(e for e in data["devices"] if e["id"] == "printer-w09")["paper_width_mm"] = 76
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    for extra in ([], ["--check"]):
        args = [
            "--hall-dir",
            str(hall_dir),
            "--secret-dir",
            str(tmp_path / "secret"),
            "--out",
            str(out),
            *extra,
        ]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 1, result.output
        assert str(path) in result.output
        assert "printer-w09" in result.output and "paper_width_mm" in result.output
        assert not out.exists()


# --- the systemd notifier the units rely on (Type=notify, WatchdogSec=) ---


@pytest.fixture(params=["path", "abstract"])
def notify_socket(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if request.param == "path":
        address = str(tmp_path / "notify")
        sock.bind(address)
    else:
        name = f"hallq-test-{os.getpid()}-{id(sock)}"
        sock.bind("\0" + name)
        address = "@" + name
    sock.settimeout(2)
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    with sock:
        yield sock


def test_notifier_speaks_the_sd_notify_protocol(notify_socket: socket.socket) -> None:
    assert watchdog.ready()
    assert notify_socket.recv(256) == b"READY=1"
    assert watchdog.ready("已连接大厅服务器")
    assert notify_socket.recv(256).decode() == "READY=1\nSTATUS=已连接大厅服务器"
    assert watchdog.watchdog_ping()
    assert notify_socket.recv(256) == b"WATCHDOG=1"
    assert watchdog.stopping()
    assert notify_socket.recv(256) == b"STOPPING=1"


def test_notifier_is_quiet_outside_systemd(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert watchdog.ready() is False
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "nobody-listens"))
    assert watchdog.watchdog_ping() is False
    monkeypatch.setenv("NOTIFY_SOCKET", "vsock:2:999")
    assert watchdog.sd_notify("READY=1") is False


def test_watchdog_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert watchdog.watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    assert watchdog.watchdog_interval() == 30.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert watchdog.watchdog_interval() == 30.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    assert watchdog.watchdog_interval() is None  # meant for another process
    monkeypatch.delenv("WATCHDOG_PID")
    monkeypatch.setenv("WATCHDOG_USEC", "soon")
    assert watchdog.watchdog_interval() is None
