"""`hallq display` and `hallq evaluator` as the lead mounts them, run as real processes (a Kivy app owns its
process and window): they find their profile and login, connect, draw the retained state, save a screenshot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import DEMO_HALL
from tests.gateway.fixtures import Bus
from tests.ui.helpers import issue
from tests.ui.stage import SCREENS

RUN = "import typer, sys; from {module} import {function} as f; typer.run(f)"


def run(bus: Bus, tmp_path: Path, module: str, function: str, device: str, shot: Path, size: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HALLQ_", "KIVY_", "DISPLAY"))}
    env |= {"KIVY_HOME": str(tmp_path / "kivy"), "STATE_DIRECTORY": str(tmp_path), "HALLQ_AUDIO_PLAYER": "none"}
    argv = [
        sys.executable,
        "-c",
        RUN.format(module=module, function=function),
        "--device",
        device,
        "--hall-dir",
        str(DEMO_HALL),
        "--secret-dir",
        str(bus.secret_dir),
        "--broker-host",
        bus.broker.host,
        "--broker-port",
        str(bus.broker.port),
        "--windowed",
        "--size",
        size,
        "--screenshot",
        str(shot),
    ]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert shot.exists() and shot.stat().st_size > 10_000, done.stderr[-3000:]
    return done.stdout


def test_display_command(bus: Bus, tmp_path: Path) -> None:
    issue(bus, "police", 31)
    bus.http.post("/api/v1/windows/w03/call-next")
    bus.gateway.drain()
    shot = SCREENS / "command-window-display.png"
    out = run(bus, tmp_path, "kiosk.display.cli", "display_command", "display-w03", shot, "1280x720")
    assert "3号窗口屏（display-w03）" in out and "截图" in out


def test_evaluator_command(bus: Bus, tmp_path: Path) -> None:
    shot = SCREENS / "command-evaluator.png"
    out = run(bus, tmp_path, "kiosk.evaluator.cli", "evaluator_command", "eval-w03", shot, "1280x800")
    assert "3号窗口评价器（eval-w03）" in out


def test_a_wrong_device_is_refused_clearly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HALLQ_")}
    argv = [sys.executable, "-c", RUN.format(module="kiosk.display.cli", function="display_command")]
    done = subprocess.run(
        [*argv, "--device", "eval-w03", "--hall-dir", str(DEMO_HALL), "--secret-dir", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1 and "设备 eval-w03 的类型是 evaluator" in done.stderr
