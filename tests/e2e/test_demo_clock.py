"""The demo clock (HALLQ_CLOCK_START) survives restarts, and `hallq run` hands the same clock to its devices.

The rule: the first time a start instant is given, the wall time is saved beside it (var/hallq.clock.json,
next to the database); the same instant given again goes on from that anchor; a different one starts over."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hallcore.clock import ManualClock, OffsetClock, anchor_demo_clock
from hallserver.cli.serve import device_env
from hallserver.settings import PROJECT_ROOT, Settings
from kiosk.ui.cli import hall_now

HALLQ = str(Path(sys.executable).parent / "hallq")
SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)  # a Monday, as the hall opens
WALL = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)  # when the demo was first started (the real date)


def _clock(start: datetime, path: Path, base: ManualClock) -> OffsetClock:
    """What the server does at start-up: anchor the demo clock, then run from the anchor."""
    anchor = anchor_demo_clock(start, path, base)
    return OffsetClock(anchor.start, base, anchor.set_at)


def test_the_demo_clock_goes_on_across_restarts(tmp_path: Path) -> None:
    wall, path = ManualClock(WALL), tmp_path / "var" / "hallq.clock.json"
    first = _clock(START, path, wall)  # creates var/ too
    assert first.now() == START
    wall.advance(hours=2, minutes=30)
    before_restart = first.now()
    assert before_restart == START + timedelta(hours=2, minutes=30)

    wall.advance(minutes=5)  # the server is down for five minutes, then started with the same value
    after_restart = _clock(START, path, wall).now()
    assert after_restart == START + timedelta(hours=2, minutes=35)
    assert after_restart > before_restart  # a ticket taken now sorts after one taken before the restart
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert datetime.fromisoformat(saved["start"]) == START and datetime.fromisoformat(saved["set_at"]) == WALL


def test_the_same_instant_written_another_way_is_the_same_start(tmp_path: Path) -> None:
    wall, path = ManualClock(WALL), tmp_path / "clock.json"
    _clock(START, path, wall)
    wall.advance(hours=1)
    assert _clock(START.astimezone(UTC), path, wall).now() == START + timedelta(hours=1)


def test_a_different_start_resets_the_clock(tmp_path: Path) -> None:
    wall, path = ManualClock(WALL), tmp_path / "clock.json"
    _clock(START, path, wall)
    wall.advance(hours=3)
    saturday = datetime(2026, 11, 28, 9, 0, tzinfo=SHANGHAI)
    assert _clock(saturday, path, wall).now() == saturday
    wall.advance(minutes=10)
    assert _clock(saturday, path, wall).now() == saturday + timedelta(minutes=10)
    assert datetime.fromisoformat(json.loads(path.read_text(encoding="utf-8"))["set_at"]) == WALL + timedelta(hours=3)


@pytest.mark.parametrize("content", ["", "{not json", '{"start": "2026-11-23T09:00:00"}', "[1, 2]"])
def test_an_unreadable_anchor_starts_afresh(tmp_path: Path, content: str) -> None:
    wall, path = ManualClock(WALL), tmp_path / "clock.json"
    path.write_text(content, encoding="utf-8")
    assert _clock(START, path, wall).now() == START
    wall.advance(minutes=1)
    assert _clock(START, path, wall).now() == START + timedelta(minutes=1)


def test_the_anchor_lives_beside_the_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HALLQ_DATABASE_URL", raising=False)
    monkeypatch.delenv("HALLQ_CLOCK_FILE", raising=False)
    assert Settings(database_url=f"sqlite:///{tmp_path}/hall.db").clock_anchor_file == tmp_path / "hall.clock.json"
    assert Settings().clock_anchor_file == PROJECT_ROOT / "var" / "hallq.clock.json"
    assert Settings(database_url="postgresql://u@h/db").clock_anchor_file == PROJECT_ROOT / "var" / "clock.json"
    chosen = tmp_path / "elsewhere.json"
    assert Settings(clock_file=chosen).clock_anchor_file == chosen


def test_devices_get_the_servers_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    wall = ManualClock(WALL + timedelta(hours=4))
    server = Settings(clock_start=START, clock_set_at=WALL)
    env = device_env(
        server.model_copy(update={"broker_host": "127.0.0.1", "broker_port": 1884}),
        {"PATH": "/usr/bin", "HALLQ_CLOCK_START": "2026-01-01T00:00:00+08:00"},
        "http://127.0.0.1:8000",
    )
    assert env["HALLQ_CLOCK_START"] == START.isoformat() and env["HALLQ_CLOCK_SET_AT"] == WALL.isoformat()
    assert env["HALLQ_BROKER_PORT"] == "1884" and env["HALLQ_PUBLIC_URL"] == "http://127.0.0.1:8000"
    # A device builds its clock from that environment and reads what the server reads.
    for name in ("HALLQ_CLOCK_START", "HALLQ_CLOCK_SET_AT"):
        monkeypatch.setenv(name, env[name])
    device = Settings()
    assert device.hall_clock(wall).now() == server.hall_clock(wall).now() == START + timedelta(hours=4)
    # Without a demo clock, no stale demo time reaches the devices.
    plain = device_env(Settings(clock_start=None), {"HALLQ_CLOCK_START": "x", "HALLQ_CLOCK_SET_AT": "y"}, "http://h:1")
    assert "HALLQ_CLOCK_START" not in plain and "HALLQ_CLOCK_SET_AT" not in plain


def test_a_device_app_reads_the_clock_from_its_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    set_at = datetime.now(UTC) - timedelta(hours=1)
    monkeypatch.setenv("HALLQ_CLOCK_START", START.isoformat())
    monkeypatch.setenv("HALLQ_CLOCK_SET_AT", set_at.isoformat())
    now = hall_now("Asia/Shanghai")()
    assert now.tzinfo == SHANGHAI and f"{now:%Y-%m-%d %H}" == "2026-11-23 10"  # an hour after the start


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _hall_now(env: dict[str, str]) -> tuple[str, str]:
    """`hallq serve` once: the hall time its API reports, and what it printed."""
    port = _free_port()
    server = subprocess.Popen(
        [HALLQ, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/hall", timeout=2) as response:
                    now = str(json.load(response)["now"])
                break
            except OSError:
                assert server.poll() is None, server.communicate()[0]
                time.sleep(0.1)
        else:
            raise AssertionError("hallq serve did not answer")
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    return now, output


def test_serve_goes_on_from_the_saved_anchor(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HALLQ_")},
        "HALLQ_DATABASE_URL": f"sqlite:///{tmp_path}/db/hall.db",  # db/ does not exist yet
        "HALLQ_SECRET_DIR": str(tmp_path / "secret"),
        "HALLQ_CLOCK_START": START.isoformat(),
    }
    assert subprocess.run([HALLQ, "db", "upgrade"], env=env, capture_output=True, timeout=120).returncode == 0
    anchor = tmp_path / "db" / "hall.clock.json"
    set_at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()  # the demo was started an hour ago
    anchor.write_text(json.dumps({"start": START.isoformat(), "set_at": set_at}), encoding="utf-8")

    now, output = _hall_now(env)
    assert now.startswith("2026-11-23T10:"), now  # not 09:00 again
    assert "大厅时间 2026-11-23 10:" in output and str(anchor) in output
    assert json.loads(anchor.read_text(encoding="utf-8"))["set_at"] == set_at

    other = datetime(2026, 11, 24, 14, 0, tzinfo=SHANGHAI)
    now, _ = _hall_now({**env, "HALLQ_CLOCK_START": other.isoformat()})
    assert now.startswith("2026-11-24T14:0"), now
    assert json.loads(anchor.read_text(encoding="utf-8"))["start"] == other.isoformat()
