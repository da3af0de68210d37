"""The demo's device windows sit side by side on the desktop (`hallq run` with a display): each windowed app
gets its own place, scaled to the screen, inside it and overlapping no other; the Kivy start-up honours it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hallserver.demo import DEMO_DEVICES, POSITION_ENV, Place, device_environment, laid_out, screen_size
from kiosk.ui import setup as ui_setup

ROOT = Path(__file__).resolve().parents[2]


def overlaps(a: Place, b: Place) -> bool:
    across = a.left < b.left + b.width and b.left < a.left + a.width
    return across and a.top < b.top + b.height and b.top < a.top + a.height


@pytest.mark.parametrize("screen", [(1920, 1080), (1366, 768), (2560, 1440)])
def test_windows_fit_the_screen_side_by_side(screen: tuple[int, int]) -> None:
    devices = laid_out(DEMO_DEVICES, screen)
    windowed = [d for d in devices if d.place is not None]
    assert {d.command for d in windowed} == {"kiosk", "display", "evaluator"}
    assert all(d.command in ("printer-agent", "cabinet") for d in devices if d.place is None)  # headless
    for d in windowed:
        p = d.place
        assert p is not None and p.left + p.width <= screen[0] and p.top + p.height <= screen[1], (d.device, p)
        size = d.extra[d.extra.index("--size") + 1]
        assert size == f"{p.width}x{p.height}" and "--windowed" in d.extra
        assert device_environment(d, {"A": "1"}) == {"A": "1", POSITION_ENV: f"{p.left},{p.top}"}
    for i, a in enumerate(windowed):
        for b in windowed[i + 1 :]:
            assert a.place and b.place and not overlaps(a.place, b.place), (a.device, b.device)
    kiosk = next(d for d in windowed if d.command == "kiosk")
    assert kiosk.place and kiosk.place.height > kiosk.place.width  # the kiosk stands upright, as on the floor


def test_no_window_no_position_and_the_screen_size() -> None:
    printer = next(d for d in DEMO_DEVICES if d.command == "printer-agent")
    assert POSITION_ENV not in device_environment(printer, {})
    assert screen_size({"HALLQ_DEMO_SCREEN": "1366x768"}) == (1366, 768)
    assert screen_size({}) == (1920, 1080)  # no display to ask: the layout's own size
    assert ui_setup.window_position("550,30") == (550, 30)
    for bad in ("", "550", "a,b", "-5,10", "1,2,3"):
        assert ui_setup.window_position(bad) is None


def test_kivy_start_up_places_the_window(tmp_path: Path) -> None:
    script = (
        "from kiosk.ui import setup; setup.prepare(720, 405);"
        "from kivy.config import Config;"
        "print(Config.get('graphics', 'position'), Config.get('graphics', 'left'), Config.get('graphics', 'top'),"
        " Config.get('graphics', 'width'), Config.get('graphics', 'height'))"
    )
    env = {**os.environ, POSITION_ENV: "550,475", "KIVY_HOME": str(tmp_path), "KIVY_NO_CONSOLELOG": "1"}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-5:] == ["custom", "550", "475", "720", "405"]
