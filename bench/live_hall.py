"""A whole live hall on loopback for bench.load: the demo hall with extra kiosks, its generated Mosquitto,
a migrated database (SQLite file or a PostgreSQL database of our own) and the real server process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from bench.pg_durable import DurablePostgres
from bench.ticket_core import bench_database
from broker.mosquitto import BrokerProcess, free_port, render
from firmware_config.devices import DeviceSet, load_devices
from firmware_config.hall import HallProfile, load_hall_profile
from hallcore.calendar import Holidays
from hallserver.db import upgrade

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "firmware_config" / "halls" / "demo"
ZONE = ZoneInfo("Asia/Shanghai")
FIRST_DAY = date(2026, 11, 23)


def bench_hall_dir(target: Path, kiosks: int, windows: int = 0, displays: int = 0) -> Path:
    """The demo hall copied with `kiosks` extra self-service kiosks (kiosk-b01 …), sharing its printers; with
    `windows`, as many windows in all (the extra ones, w021 …, serve what w01 serves, each with its caller
    caller-w021 …); with `displays`, that many extra hall displays (hd-b001 …) that follow every call."""
    shutil.copytree(DEMO, target)
    devices_file = target / "devices.yaml"
    raw = yaml.safe_load(devices_file.read_text(encoding="utf-8"))
    printers = [d["id"] for d in raw["devices"] if d.get("type") == "printer" and d["id"].startswith("printer-kiosk")]
    for k in range(1, kiosks + 1):
        raw["devices"].append(
            {
                "id": f"kiosk-b{k:02d}",
                "type": "kiosk",
                "name": f"压测自助机{k:02d}",
                "location": "压测",
                "printer": printers[k % len(printers)],
            }
        )
    extra = _add_windows(target / "hall.yaml", windows)
    for window in extra:
        raw["devices"].append(
            {"id": f"caller-{window}", "type": "caller", "name": f"{window}叫号", "location": "压测", "window": window}
        )
    for k in range(1, displays + 1):
        display = {"id": f"hd-b{k:03d}", "type": "hall_display", "name": f"压测屏{k:03d}", "location": "压测"}
        raw["devices"].append(display)
    devices_file.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def _add_windows(hall_file: Path, total: int) -> list[str]:
    raw = yaml.safe_load(hall_file.read_text(encoding="utf-8"))
    model = raw["windows"][0]
    added = []
    for n in range(len(raw["windows"]) + 1, total + 1):
        window = {**model, "id": f"w{n:03d}", "name": f"{n}号窗口", "number": n}
        raw["windows"].append(window)
        added.append(window["id"])
    hall_file.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return added


def working_days(n: int, first: date = FIRST_DAY) -> list[date]:
    """The next n working days by the hall calendar (each load phase gets a fresh day: fresh numbering)."""
    holidays = Holidays.load()
    out, day = [], first
    while len(out) < n:
        if day.weekday() < 5 and holidays.is_working_day(day):
            out.append(day)
        day += timedelta(days=1)
    return out


def morning(day: date, at: time = time(9, 0, 30)) -> datetime:
    """An instant of that day in the hall's zone (default: just after opening)."""
    return datetime.combine(day, at, tzinfo=ZONE)


@dataclass
class LiveHall:
    """What a measurement needs: broker address, credentials, profiles and the server process."""

    backend: str
    root: Path
    hall: HallProfile
    devices: DeviceSet
    secret_dir: Path
    broker: BrokerProcess
    server: subprocess.Popen[str]
    days: list[date]
    url: str = ""  # the database the server uses (benches seed queues into it)

    @property
    def host(self) -> str:
        """Broker host (loopback)."""
        return self.broker.host

    @property
    def port(self) -> int:
        """Broker port."""
        return self.broker.port

    def command(self, line: str, timeout: float = 150.0) -> None:
        """Send a stdin command to the server process and wait for its `ok`."""
        assert self.server.stdin is not None and self.server.stdout is not None
        self.server.stdin.write(line + "\n")
        self.server.stdin.flush()
        answer = self.server.stdout.readline().strip()
        if answer != "ok":
            raise RuntimeError(f"server answered {answer!r} to {line!r}; see {self.root / 'server.log'}")

    def new_day(self, speed: float = 1.0, at: time = time(9, 0, 30)) -> date:
        """Move the hall clock to the next unused working day."""
        day = self.days.pop(0)
        self.command(f"clock {morning(day, at).isoformat()} {speed}")
        return day

    def memory(self) -> dict[str, float]:
        """Resident set size now and at its peak (MiB) of the server process."""
        values = {}
        for line in Path(f"/proc/{self.server.pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
        return {"rss_mib": values.get("VmRSS", 0.0), "peak_mib": values.get("VmHWM", 0.0)}


@contextmanager
def postgres_server() -> Iterator[str]:
    """HALLQ_BENCH_POSTGRES_URL, or a throwaway cluster with durable settings (fsync on) stopped afterwards.
    (The test cluster, HALLQ_TEST_POSTGRES_URL, runs with fsync off: never measured here.)"""
    given = os.environ.get("HALLQ_BENCH_POSTGRES_URL")
    if given:
        yield given
        return
    server = DurablePostgres()
    try:
        yield server.start()
    finally:
        server.stop()


@contextmanager
def live_hall(
    backend: str, kiosks: int, server_url: str | None = None, days: int = 40, windows: int = 0, displays: int = 0
) -> Iterator[LiveHall]:
    """Broker + database + server process for one backend (with `windows` windows and `displays` extra hall
    displays when given); everything removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="hallq-load-"))
    root.chmod(0o755)  # the broker drops to the mosquitto user and must read its files
    broker = None
    try:
        hall_dir = bench_hall_dir(root / "hall", kiosks, windows, displays)
        hall = load_hall_profile(hall_dir / "hall.yaml")
        devices = load_devices(hall_dir / "devices.yaml", hall)
        secret = root / "secret"
        broker = BrokerProcess(render(hall, devices, secret, root / "broker", port=free_port())).start()
        with bench_database(server_url if backend == "postgresql" else None, str(root)) as url:
            upgrade(url)
            server = _start_server(root, url, hall_dir, secret, broker)
            try:
                yield LiveHall(backend, root, hall, devices, secret, broker, server, working_days(days), url)
            finally:
                _stop_server(server)
    finally:
        if broker is not None:
            broker.stop()
        shutil.rmtree(root, ignore_errors=True)


def _start_server(root: Path, url: str, hall_dir: Path, secret: Path, broker: BrokerProcess) -> subprocess.Popen[str]:
    log = (root / "server.log").open("w")
    cmd = [
        sys.executable,
        "-m",
        "bench.live_server",
        "--db",
        url,
        "--hall-dir",
        str(hall_dir),
        "--secret-dir",
        str(secret),
        "--broker-host",
        broker.host,
        "--broker-port",
        str(broker.port),
        "--start",
        morning(FIRST_DAY).isoformat(),
    ]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, bufsize=1
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if line != "ready":
        proc.kill()
        raise RuntimeError(f"hall server did not start ({line!r}): {(root / 'server.log').read_text()[-2000:]}")
    return proc


def _stop_server(proc: subprocess.Popen[str]) -> None:
    try:
        if proc.stdin is not None:
            proc.stdin.write("quit\n")
            proc.stdin.flush()
        proc.wait(timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait(timeout=10)
