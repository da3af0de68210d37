"""The printer command line: preview, samples, and the simulator command as a process."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image
from typer.testing import CliRunner

from kiosk.printer.cli import printer_app
from kiosk.printer.layout import render
from kiosk.printer.samples import SAMPLES

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_preview_command(tmp_path: Path) -> None:
    capture = tmp_path / "capture.bin"
    capture.write_bytes(render("ticket", SAMPLES["ticket"], 58) + render("notice", SAMPLES["notice"], 58))
    out = tmp_path / "out.png"
    result = runner.invoke(printer_app, ["preview", str(capture), str(out), "--width", "58", "--text"])
    assert result.exit_code == 0, result.output
    assert "2 份单据" in result.output and "A012" in result.output and "一次性告知书" in result.output
    with Image.open(out) as image:
        assert image.width == 384
    assert runner.invoke(printer_app, ["preview", str(capture), str(out), "--width", "76"]).exit_code == 1
    assert runner.invoke(printer_app, ["preview", str(tmp_path / "none.bin"), str(out)]).exit_code == 1


def test_samples_command(tmp_path: Path) -> None:
    result = runner.invoke(printer_app, ["samples", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in tmp_path.glob("*.png")} == {f"{kind}-{width}.png" for kind in SAMPLES for width in (58, 80)}


def test_simulator_command_prints_and_answers(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    capture = tmp_path / "sim.bin"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk.printer.cli", "simulator", "--port", str(port), "--capture", str(capture),
         "--paper", "near_end"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=1)
                break
            except OSError:
                assert time.monotonic() < deadline, "the simulator did not start"
                time.sleep(0.05)
        with conn:
            conn.sendall(b"\x10\x04\x04")
            assert conn.recv(1) == b"\x1e"  # paper near its end
            conn.sendall(render("ticket", SAMPLES["ticket"], 80))
        deadline = time.monotonic() + 5
        while not capture.exists() or b"\x1dV" not in capture.read_bytes():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.5)  # let it print what it received
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=10)[0].decode()
    assert f"127.0.0.1:{port}" in output and "A012" in output
