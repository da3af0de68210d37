"""`hallq idcard-sim --device kiosk-01 …` swipes cards on a running demo kiosk's simulated reader: the kiosk's
reader listens on var/idcard/<device>.sock (0600), the command finds it by the device id. Runs the real
`hallq` command against the kiosk's real card input (simulator on a pty, SamvReader, watcher)."""

from __future__ import annotations

import os
import queue
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from firmware_config.devices import KioskProfile
from kiosk.idcard.control import SOCKET_DIR_ENV, DeviceControl, DeviceLine, running_devices, socket_path
from kiosk.idcard.simulator import IdCardSimulator
from kiosk.idcard.watcher import CardPresented, CardRemoved
from kiosk.terminal.hardware import CardInput

HALLQ = [sys.executable, "-m", "hallq"]


def hallq(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, SOCKET_DIR_ENV: str(folder)}
    return subprocess.run([*HALLQ, "idcard-sim", *args], env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # A short path: a Unix socket's path is limited to 107 bytes.
    path = Path(os.path.join("/tmp", f"hq-idc-{os.getpid()}-{id(tmp_path) % 10000}"))
    path.mkdir(exist_ok=True)
    monkeypatch.setenv(SOCKET_DIR_ENV, str(path))
    yield path
    for leftover in path.iterdir():
        leftover.unlink()
    path.rmdir()


@pytest.fixture
def kiosk(folder: Path) -> Iterator[tuple[CardInput, queue.Queue[Any]]]:
    """The demo kiosk's card input, as `hallq kiosk --device kiosk-07` starts it (simulated reader)."""
    profile = KioskProfile(type="kiosk", id="kiosk-07", name="测试自助机", id_reader={"type": "simulator"})
    events: queue.Queue[Any] = queue.Queue()
    card_input = CardInput(profile, events.put)
    card_input.start()
    assert card_input.problem is None, card_input.problem
    yield card_input, events
    card_input.stop()


def _next(events: queue.Queue[Any], kind: type) -> Any:
    while True:
        event = events.get(timeout=10)
        if isinstance(event, kind):
            return event


def test_idcard_sim_swipes_a_card_on_a_running_kiosk(folder: Path, kiosk: tuple[CardInput, queue.Queue[Any]]) -> None:
    card_input, events = kiosk
    path = socket_path("kiosk-07")
    assert path.parent == folder and stat.S_IMODE(path.stat().st_mode) == 0o600  # only the demo's user
    assert running_devices() == ["kiosk-07"]

    listed = hallq(folder, "--device", "kiosk-07", "list")
    assert listed.returncode == 0 and listed.stdout.split()[:3] == ["ok", "resident", "elderly"]

    inserted = hallq(folder, "--device", "kiosk-07", "insert", "elderly")
    assert inserted.returncode == 0 and inserted.stdout.strip() == "ok inserted elderly"
    presented = _next(events, CardPresented)  # the kiosk's own watcher read it through its reader
    assert presented.card.name == "王老测试"

    assert hallq(folder, "--device", "kiosk-07", "status").stdout.strip() == "ok card=elderly faults=-"
    assert hallq(folder, "--device", "kiosk-07", "remove").returncode == 0
    _next(events, CardRemoved)

    card_input.stop()  # the kiosk stops: its socket goes with it
    assert not path.exists()


def test_clear_errors(folder: Path, kiosk: tuple[CardInput, queue.Queue[Any]]) -> None:
    unknown = hallq(folder, "--device", "kiosk-99", "insert", "resident")
    assert unknown.returncode == 1
    assert "找不到自助机 kiosk-99 的模拟身份证阅读器" in unknown.stderr and "kiosk-07" in unknown.stderr
    bad_key = hallq(folder, "--device", "kiosk-07", "insert", "nobody")
    assert bad_key.returncode == 1 and bad_key.stdout.startswith("error no identity 'nobody'")
    bad_id = hallq(folder, "--device", "../etc/passwd", "remove")
    assert bad_id.returncode == 1 and "设备编号格式不正确" in bad_id.stderr
    without_device = hallq(folder, "insert", "resident")
    assert without_device.returncode == 1 and "--device" in without_device.stderr


def test_a_long_line_is_refused_and_the_socket_keeps_serving(kiosk: tuple[CardInput, queue.Queue[Any]]) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as raw:
        raw.settimeout(5)
        raw.connect(str(socket_path("kiosk-07")))
        raw.sendall(b"insert " + b"x" * 5000 + b"\n")
        assert raw.recv(100).startswith(b"error line too long")
    line = DeviceLine("kiosk-07")
    try:
        assert line.ask("status") == "ok card=- faults=-"
    finally:
        line.close()


def test_a_stale_socket_is_replaced_but_a_live_one_is_not_taken(folder: Path) -> None:
    stale = socket_path("kiosk-08")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(stale))  # left behind by a kiosk that was killed: nobody listens
    sim = IdCardSimulator()
    other = IdCardSimulator()
    try:
        control = DeviceControl(sim, "kiosk-08").start()
        try:
            line = DeviceLine("kiosk-08")
            assert line.ask("insert child") == "ok inserted child"
            line.close()
            assert sim.card == "child"
            with pytest.raises(OSError, match="in use"):
                DeviceControl(other, "kiosk-08")  # a second kiosk with the same id does not steal it
        finally:
            control.stop()
    finally:
        sim.close()
        other.close()
