"""The demo's device supervisor runs real `hallq` device commands as child processes: a device that cannot
start is restarted with backoff and its reason lands in its log; stop() ends every child."""

from __future__ import annotations

import os
import time
from pathlib import Path

from hallserver.demo import DemoDevice, DeviceSupervisor, has_screen


def _wait(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_supervisor_restarts_a_failing_device_and_stops_a_running_one(tmp_path: Path) -> None:
    env = dict(os.environ)
    # Nothing listens on this port: the printer agent keeps retrying the broker, i.e. keeps running.
    env.update(HALLQ_BROKER_HOST="127.0.0.1", HALLQ_BROKER_PORT="9", HALLQ_SECRET_DIR=str(tmp_path / "secret"))
    good = DemoDevice("printer-agent", "printer-kiosk-01", ("--state-dir", str(tmp_path / "printer")))
    bad = DemoDevice("display", "no-such-display")
    supervisor = DeviceSupervisor([good, bad], tmp_path / "logs", env, poll_s=0.1).start()
    children = {c.spec.device: c for c in supervisor._children}
    try:
        assert _wait(lambda: children["no-such-display"].restarts >= 2), "the failing device was not restarted"
        assert "no-such-display" in (tmp_path / "logs" / "no-such-display.log").read_text(encoding="utf-8")
        pid = supervisor.running()["printer-kiosk-01"]
        assert pid is not None and children["printer-kiosk-01"].restarts == 0
    finally:
        supervisor.stop()
    assert supervisor.running() == {"printer-kiosk-01": None, "no-such-display": None}
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


def test_screen_detection() -> None:
    assert has_screen({"DISPLAY": ":0"}) and has_screen({"WAYLAND_DISPLAY": "wayland-0"})
    assert not has_screen({})
