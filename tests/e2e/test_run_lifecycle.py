"""`hallq run` as a newcomer and an init system use it: from a checkout that has never run (no var/), and
stopped every way a process is stopped, leaving none of its children (broker, eight floor devices) behind.

Each test copies the working tree (without .venv, var and caches) into a fresh folder and runs the real
`.venv/bin/hallq` on it with PYTHONPATH pointing at the copy, so every default path is the copy's own var/."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HALLQ = str(Path(sys.executable).parent / "hallq")
DEMO_DEVICES = {
    "printer-kiosk-01",
    "printer-w01",
    "printer-w02",
    "hall-display-1",
    "display-w01",
    "eval-w01",
    "kiosk-01",
    "pickup-cabinet-01",
}
START_S = 180.0  # two shared cores: the server, a broker, seven Kivy devices and the cabinet start together
STOP_S = 60.0
MONDAY_MORNING = "2026-11-23T09:00:00+08:00"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stat(pid: int) -> tuple[int, str, str] | None:
    """(parent pid, state, start time) of a process, from /proc; None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), fields[0], fields[19]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def _descendants(root: int) -> dict[int, str]:
    """Every live descendant of `root`: pid → start time (which tells it from a later process with its pid)."""
    parents: dict[int, tuple[int, str, str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = stat
    found: dict[int, str] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, state, started) in parents.items():
            if ppid == parent and pid not in found and state not in ("Z", "X"):
                found[pid] = started
                frontier.append(pid)
    return found


def _still_running(tracked: dict[int, str]) -> dict[int, str]:
    """Those of the tracked processes still alive (the same process, not a zombie); pid → command line."""
    alive = {}
    for pid, started in tracked.items():
        stat = _stat(pid)
        if stat is not None and stat[2] == started and stat[1] not in ("Z", "X"):
            alive[pid] = _cmdline(pid)
    return alive


def _device_of(pid: int) -> str | None:
    words = _cmdline(pid).split()
    return words[words.index("--device") + 1] if "--device" in words[:-1] else None


def _get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def _post(url: str, body: dict[str, str]) -> dict[str, object]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        answer = json.load(response)
    assert isinstance(answer, dict)
    return answer


@dataclass
class Checkout:
    """A copy of the working tree that has never run: no var/, no .venv."""

    root: Path
    env: dict[str, str]
    port: int
    mqtt_port: int

    @property
    def var(self) -> Path:
        return self.root / "var"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def checkout() -> Iterator[Checkout]:
    # mkdtemp (not tmp_path, which is 0700): mosquitto, started as root, drops to its own user and must
    # reach var/broker inside the copy.
    folder = Path(tempfile.mkdtemp(prefix="hallq-checkout-"))
    folder.chmod(0o755)
    root = folder / "hallq"
    skip = shutil.ignore_patterns(".venv", ".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache")
    shutil.copytree(ROOT, root, ignore=lambda d, names: {*skip(d, names), *({"var"} if Path(d) == ROOT else ())})
    assert not (root / "var").exists()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HALLQ_")}
    for screen in ("DISPLAY", "WAYLAND_DISPLAY"):  # screenless: the devices render offscreen
        env.pop(screen, None)
    port, mqtt_port = _free_port(), _free_port()
    env.update(PYTHONPATH=str(root), HALLQ_BROKER_PORT=str(mqtt_port))
    try:
        yield Checkout(root, env, port, mqtt_port)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    output: Path
    children: dict[int, str]  # every descendant once all were up: pid → start time

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")


def _start(checkout: Checkout, env: dict[str, str] | None = None) -> Running:
    """`hallq run` in the checkout; returns once it serves /api/v1/hall and the broker and every demo device
    are up (the devices online on the bus)."""
    output = checkout.root / "run.out"
    with output.open("wb") as out:
        process = subprocess.Popen(
            [HALLQ, "run", "--port", str(checkout.port)],
            cwd=checkout.root,
            env={**checkout.env, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    running = Running(process, output, {})
    try:
        deadline = time.monotonic() + START_S
        while True:
            assert process.poll() is None, f"hallq run exited with {process.returncode}:\n{running.text()}"
            assert time.monotonic() < deadline, f"hallq run did not come up:\n{running.text()}"
            try:
                devices = _get(f"{checkout.base}/api/v1/devices")
            except OSError:
                devices = None
            children = _descendants(process.pid)
            online = {d["id"] for d in devices if d["online"]} if isinstance(devices, list) else set()
            started = {_device_of(pid) for pid in children}
            has_broker = any("mosquitto" in _cmdline(pid).split()[0] for pid in children)
            if online >= DEMO_DEVICES and started >= DEMO_DEVICES and has_broker:
                running.children = children
                return running
            time.sleep(0.5)
    except BaseException:
        _kill_all(running)
        raise


def _kill_all(running: Running) -> None:
    """Clean-up after a failed test: the processes this test started, by their ids."""
    for pid in [*_still_running(_descendants(running.process.pid)), *_still_running(running.children)]:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL) if os.getpgid(pid) == pid else os.kill(pid, signal.SIGKILL)
    if running.process.poll() is None:
        running.process.kill()
    running.process.wait()


def _assert_all_stopped(running: Running, exit_code: int | None) -> None:
    """hallq run ends (with `exit_code`, or any failure code for None) and none of its children is left."""
    try:
        code = running.process.wait(timeout=STOP_S)
        assert code == exit_code if exit_code is not None else code > 0, running.text()
        assert running.children, "no child was tracked"
        deadline = time.monotonic() + STOP_S
        while (left := _still_running(running.children)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not left, f"still running after hallq run ended: {left}"
    finally:
        _kill_all(running)


def test_a_fresh_checkout_runs_and_stops_on_sigterm(checkout: Checkout) -> None:
    running = _start(checkout, {"HALLQ_CLOCK_START": MONDAY_MORNING})
    hall = _get(f"{checkout.base}/api/v1/hall")
    assert isinstance(hall, dict) and hall["name"] == "南山区政务服务中心" and hall["is_open"] is True
    # Everything it writes, it created: the database, the broker's files, the secrets, the device logs.
    for path in (
        "hallq.db",
        "hallq.clock.json",
        "broker/mosquitto.conf",
        "broker/data",
        "secret/identity.key",
        "secret/broker/kiosk-01.password",
        "demo/kiosk-01.log",
    ):
        assert (checkout.var / path).exists(), path
    # Every device runs on the server's clock: the same demo start and the instant it was set.
    anchor = json.loads((checkout.var / "hallq.clock.json").read_text(encoding="utf-8"))
    assert anchor["start"] == MONDAY_MORNING
    checked = set()
    for pid in running.children:
        device = _device_of(pid)
        if device is None:
            continue
        checked.add(device)
        environ = dict(
            line.split("=", 1)
            for line in Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace").split("\0")
            if "=" in line
        )
        assert environ["HALLQ_CLOCK_START"] == anchor["start"], device
        assert environ["HALLQ_CLOCK_SET_AT"] == anchor["set_at"], device
    assert checked == DEMO_DEVICES
    # What a newcomer needs is on the terminal: the console's address and the demo logins, which work.
    banner = running.text()
    assert f"{checkout.base}/console/" in banner and "demo1234" in banner, banner
    assert all(f" {user} " in banner for user in ("s01", "s05", "m01", "a01")), banner
    with urllib.request.urlopen(f"{checkout.base}/", timeout=5) as root:  # / leads to the console
        assert root.url == f"{checkout.base}/console/" and "login-form" in root.read().decode()
    token = _post(f"{checkout.base}/api/v1/auth/login", {"username": "m01", "password": "demo1234"})["token"]
    assert isinstance(token, str) and token

    running.process.send_signal(signal.SIGTERM)
    _assert_all_stopped(running, 0)
    assert "hallq 已停止" in running.text()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGHUP])
def test_every_stop_signal_stops_every_child(checkout: Checkout, sig: signal.Signals) -> None:
    running = _start(checkout)
    running.process.send_signal(sig)
    _assert_all_stopped(running, 0)
    assert "hallq 已停止" in running.text()


def test_children_are_stopped_when_hallq_run_is_killed_outright(checkout: Checkout) -> None:
    running = _start(checkout)
    running.process.send_signal(signal.SIGKILL)  # nothing in the process can clean up: its watcher does
    _assert_all_stopped(running, -signal.SIGKILL)


def test_children_are_stopped_when_the_server_cannot_start(checkout: Checkout) -> None:
    # The server dies at start-up (its port is taken) after the broker and the devices were started.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", checkout.port))
        taken.listen()
        output = checkout.root / "run.out"
        with output.open("wb") as out:
            process = subprocess.Popen(
                [HALLQ, "run", "--port", str(checkout.port)],
                cwd=checkout.root,
                env=checkout.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        running = Running(process, output, {})
        device_of: dict[int, str | None] = {}
        deadline = time.monotonic() + START_S
        while process.poll() is None and time.monotonic() < deadline:
            # Whatever it starts before it fails. A child caught between fork and exec still shows the
            # parent's command line, so a pid without a device is read again on the next round.
            fresh = {pid: t for pid, t in _descendants(process.pid).items() if device_of.get(pid) is None}
            device_of.update({pid: _device_of(pid) for pid in fresh})
            running.children.update(fresh)
            time.sleep(0.1)
        started = set(device_of.values())
    try:
        assert started >= DEMO_DEVICES, f"not every device was started:\n{running.text()}"
    except AssertionError:
        _kill_all(running)
        raise
    _assert_all_stopped(running, None)
    assert "address already in use" in running.text().lower()
