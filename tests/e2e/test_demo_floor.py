"""The demo floor working together, as a newcomer sees it on a machine with a screen: a fresh checkout's
`hallq run` on an X display (Xvfb, 1920×1080) shows the kiosk, the displays and the evaluator, and one citizen
goes through the hall — a simulated ID card inserted with `hallq idcard-sim --device kiosk-01`, a ticket taken
by tapping the kiosk (real X pointer events through the XTEST extension), the ticket called from the staff
console (headless Chromium), the call on the window display, the visit rated by tapping the evaluator.

The screen is read back from Xvfb's framebuffer file (-fbdir); every step waits for what the screen shows (a
button's colour where it belongs) before tapping, and screenshots of each step are kept in
/tmp/hallq-screens/demo-floor-*.png. The places of the windows come from the demo's own layout
(hallserver/demo.py); the places of the buttons inside them are the kiosk's and evaluator's screens at the
demo's window sizes."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image

from hallserver.demo import DEMO_DEVICES, laid_out
from tests.console.conftest import Console, driver
from tests.e2e.test_run_lifecycle import (
    HALLQ,
    MONDAY_MORNING,
    Checkout,
    _assert_all_stopped,
    _kill_all,
    _start,
    checkout,
)

__all__ = ["checkout", "driver"]  # fixtures used here

SCREEN = (1920, 1080)
SHOTS = Path(os.environ.get("HALLQ_SCREENS_DIR", "/tmp/hallq-screens"))
PASSWORD = "demo1234"  # the demo accounts' password (hallq run resets it)
STEP_S = 60.0  # two shared cores: seven devices, the server, the broker, Xvfb and Chromium

# Colours of the screens (kiosk/ui/theme.py and the screens' buttons), as Xvfb stores them.
TILE_BLUE = (21, 101, 192)  # 取号 tile, domain and item buttons
OK_GREEN = (46, 125, 50)  # 直接继续, 确认取号
NO_CARD_TEAL = (0, 115, 125)  # 没带身份证？ on the identity screen (waiting for a card)
RATE_GREEN = (27, 138, 58)  # the evaluator's 非常满意 and 提交评价
TICKET_YELLOW = (255, 213, 74)  # the big ticket number (theme.TICKET)


@dataclass(frozen=True)
class Spot:
    """A point inside a device window (window pixels) and the colour it has when the wanted button is there."""

    x: int
    y: int
    colour: tuple[int, int, int]


# kiosk-01 (540×960): home → identity → domains → items → confirm.
TAKE_TICKET = Spot(142, 172, TILE_BLUE)
WAITING_FOR_CARD = Spot(396, 313, NO_CARD_TEAL)
CONTINUE = Spot(396, 313, OK_GREEN)
DOMAIN_HUJI = Spot(396, 360, TILE_BLUE)  # 户籍管理 (queue group police, served at w01)
ITEM_FIRST_ROW = Spot(40, 340, TILE_BLUE)  # the items list: 居民身份证换领 is the third row
ITEM_HUANLING = Spot(270, 340, TILE_BLUE)
CONFIRM = Spot(40, 798, OK_GREEN)
# eval-w01 (640×400): the five levels, then the details and 提交评价.
VERY_SATISFIED = Spot(88, 240, RATE_GREEN)
SUBMIT = Spot(427, 295, RATE_GREEN)
# display-w01 (720×405): the box of the big number.
NUMBER_BOX = (30, 92, 382, 320)


class XTest:
    """Pointer taps on an X display through libXtst (what a touch screen's driver does)."""

    def __init__(self, display: str) -> None:
        try:
            self.x11 = ctypes.CDLL("libX11.so.6")
            self.xtst = ctypes.CDLL("libXtst.so.6")
        except OSError as exc:
            pytest.fail(f"libX11/libXtst missing ({exc}): apt-get install libx11-6 libxtst6", pytrace=False)
        self.x11.XOpenDisplay.restype = ctypes.c_void_p
        self.x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.x11.XFlush.argtypes = [ctypes.c_void_p]
        self.x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self.xtst.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.xtst.XTestFakeMotionEvent.argtypes += [ctypes.c_ulong]
        self.xtst.XTestFakeButtonEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
        self.handle = self.x11.XOpenDisplay(display.encode())
        assert self.handle, f"cannot open X display {display}"

    def tap(self, x: int, y: int) -> None:
        """Move there, press and release the first button."""
        self.xtst.XTestFakeMotionEvent(self.handle, -1, x, y, 0)
        self.x11.XFlush(self.handle)
        time.sleep(0.1)
        for down in (1, 0):
            self.xtst.XTestFakeButtonEvent(self.handle, 1, down, 0)
            self.x11.XFlush(self.handle)
            time.sleep(0.1)

    def close(self) -> None:
        self.x11.XCloseDisplay(self.handle)


@dataclass
class Screen:
    """The Xvfb screen: its framebuffer file, pointer taps, the demo windows' places."""

    display: str
    framebuffer: Path
    pointer: XTest
    places: dict[str, tuple[int, int]]  # device → (left, top) of its window

    def grab(self) -> Image.Image:
        """The screen now (Xvfb keeps it as an XWD file)."""
        data = self.framebuffer.read_bytes()
        header = struct.unpack(">25I", data[:100])
        size, width, height, per_line, colours = header[0], header[4], header[5], header[12], header[19]
        start = size + colours * 12
        pixels = data[start : start + per_line * height]
        return Image.frombuffer("RGBX", (width, height), pixels, "raw", "BGRX", per_line, 1).convert("RGB")

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.grab().save(SHOTS / f"demo-floor-{name}.png")

    def at(self, device: str, spot: Spot) -> tuple[int, int]:
        left, top = self.places[device]
        return left + spot.x, top + spot.y

    def shows(self, device: str, spot: Spot) -> bool:
        pixel: tuple[int, int, int] = self.grab().getpixel(self.at(device, spot))  # type: ignore[assignment]
        return all(abs(int(a) - b) <= 12 for a, b in zip(pixel, spot.colour, strict=True))

    def wait(self, check: Callable[[], bool], what: str, timeout: float = STEP_S) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                self.shot("failure")
                raise AssertionError(
                    f"{what} did not show within {timeout:.0f}s (screen: {SHOTS}/demo-floor-failure.png)"
                )
            time.sleep(0.3)

    def tap_when_shown(self, device: str, spot: Spot, what: str) -> None:
        self.wait(lambda: self.shows(device, spot), what)
        self.pointer.tap(*self.at(device, spot))

    def yellow_in_number_box(self) -> int:
        left, top = self.places["display-w01"]
        box = self.grab().crop((left + NUMBER_BOX[0], top + NUMBER_BOX[1], left + NUMBER_BOX[2], top + NUMBER_BOX[3]))
        raw = box.tobytes()  # RGB
        r, g, b = TICKET_YELLOW
        return sum(
            1
            for i in range(0, len(raw), 3)
            if abs(raw[i] - r) <= 40 and abs(raw[i + 1] - g) <= 40 and abs(raw[i + 2] - b) <= 40
        )


def _free_display() -> int:
    for n in range(90, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise AssertionError("no free X display number")


@pytest.fixture
def screen() -> Iterator[Screen]:
    """A 1920×1080 Xvfb (apt-get install xvfb) whose screen the test can read."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.fail("Xvfb not found: apt-get install xvfb (make test installs it)", pytrace=False)
    folder = Path(tempfile.mkdtemp(prefix="hallq-xvfb-"))
    number = _free_display()
    argv = [
        xvfb,
        f":{number}",
        "-screen",
        "0",
        f"{SCREEN[0]}x{SCREEN[1]}x24",
        "-nolisten",
        "tcp",
        "-fbdir",
        str(folder),
    ]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not (Path(f"/tmp/.X11-unix/X{number}").exists() and (folder / "Xvfb_screen0").exists()):
            assert process.poll() is None, "Xvfb exited at start"
            assert time.monotonic() < deadline, "Xvfb did not start"
            time.sleep(0.1)
        places = {d.device: (d.place.left, d.place.top) for d in laid_out(DEMO_DEVICES, SCREEN) if d.place}
        pointer = XTest(f":{number}")
        try:
            yield Screen(f":{number}", folder / "Xvfb_screen0", pointer, places)
        finally:
            pointer.close()
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        if process.poll() is None:
            process.kill()
        shutil.rmtree(folder, ignore_errors=True)


def _http(url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """GET (or POST a JSON body): status and decoded JSON."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def _token(base: str, username: str) -> dict[str, str]:
    status, body = _http(f"{base}/api/v1/auth/login", {"username": username, "password": PASSWORD})
    assert status == 200, body
    return {"Authorization": f"Bearer {body['token']}"}


def _police_waiting(base: str) -> int:
    _, queue = _http(f"{base}/api/v1/queue")
    return int(next(g["waiting"] for g in queue if g["group"] == "police"))


def test_card_ticket_console_call_window_display_and_rating(checkout: Checkout, screen: Screen, driver: Any) -> None:
    env = {"DISPLAY": screen.display, "HALLQ_CLOCK_START": MONDAY_MORNING, "HALLQ_AUDIO_PLAYER": "none"}
    running = _start(checkout, env)
    try:
        base = checkout.base
        assert {"kiosk-01", "display-w01", "eval-w01", "hall-display-1"} <= set(screen.places)
        screen.wait(lambda: screen.shows("kiosk-01", TAKE_TICKET), "the kiosk's home screen")
        screen.wait(lambda: screen.shows("eval-w01", Spot(20, 380, (10, 35, 80))), "the evaluator's idle screen")
        idle_yellow = screen.yellow_in_number_box()
        screen.shot("1-home")

        # 1. The citizen taps 取号 and puts the ID card on the reader (`hallq idcard-sim`, as in the README).
        screen.tap_when_shown("kiosk-01", TAKE_TICKET, "the 取号 tile")
        screen.wait(lambda: screen.shows("kiosk-01", WAITING_FOR_CARD), "the identity screen")
        swipe = subprocess.run(
            [HALLQ, "idcard-sim", "--device", "kiosk-01", "insert", "resident"],
            cwd=checkout.root, env={**checkout.env, **env}, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert swipe.returncode == 0 and swipe.stdout.strip() == "ok inserted resident", swipe.stderr
        screen.tap_when_shown("kiosk-01", CONTINUE, "the card read (直接继续)")
        screen.shot("2-card-read")

        # 2. 户籍管理 → 居民身份证换领 → 材料已备齐，确认取号.
        screen.tap_when_shown("kiosk-01", DOMAIN_HUJI, "the domains")
        screen.wait(lambda: screen.shows("kiosk-01", ITEM_FIRST_ROW), "the items of 户籍管理")
        screen.tap_when_shown("kiosk-01", ITEM_HUANLING, "居民身份证换领")
        screen.tap_when_shown("kiosk-01", CONFIRM, "the confirmation")
        screen.wait(lambda: _police_waiting(base) == 1, "the ticket in the police queue")
        screen.shot("3-ticket")

        # 3. The window's staff calls it from the console.
        console = Console(SimpleNamespace(base_url=base, password=lambda _user: PASSWORD), driver)  # type: ignore[arg-type]
        console.login("s01", then="/console/staff")
        console.find("#window-select option[value='w01']")
        console.driver.execute_script(
            "const s = document.querySelector('#window-select'); s.value = 'w01';s.dispatchEvent(new Event('change'));"
        )
        console.find("#btn-call").click()
        console.wait_text("#ticket-number", "A001", timeout=STEP_S)
        console.screenshot("demo-floor-call")

        # 4. The window display calls A001 (the big yellow number, ten times the dash's yellow, replaces it).
        screen.wait(lambda: screen.yellow_in_number_box() > max(5 * idle_yellow, 3000), "A001 on the window display")
        screen.shot("4-window-display")

        # 5. Served and finished; the citizen rates it on the evaluator: 非常满意, then 提交评价.
        staff = _token(base, "s01")
        for step, body in (("start", {}), ("finish", {"outcome": "咨询"})):
            status, answer = _http(f"{base}/api/v1/windows/w01/{step}", body, staff)
            assert status == 200, answer
        screen.tap_when_shown("eval-w01", VERY_SATISFIED, "the rating prompt")
        screen.tap_when_shown("eval-w01", SUBMIT, "the details and 提交评价")
        manager = _token(base, "m01")

        def rated() -> bool:
            return bool(_http(f"{base}/api/v1/evaluations", headers=manager)[1])

        screen.wait(rated, "the evaluation on the server")
        screen.shot("5-rated")
        (evaluation,) = _http(f"{base}/api/v1/evaluations", headers=manager)[1]
        assert (evaluation["level"], evaluation["label"], evaluation["channel"]) == (5, "非常满意", "evaluator")

        # The hall display read the call; there is no sound card here: it said so once and kept the WAV files.
        log = (checkout.var / "demo" / "hall-display-1.log").read_text(encoding="utf-8", errors="replace")
        assert log.count("叫号语音只生成 WAV 文件") == 2  # the start-up line and the log's warning, nothing more
        assert list((checkout.var / "display" / "voice").glob("*.wav"))

    except BaseException:
        _kill_all(running)
        raise
    running.process.send_signal(signal.SIGTERM)
    _assert_all_stopped(running, 0)
