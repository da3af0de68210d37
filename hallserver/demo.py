"""The demo hall's floor devices as child processes of `hallq run`: printer agents (each with its simulated
printer), the hall display, a window display and evaluator, a kiosk with its simulated ID card reader and
camera, and the pickup cabinet with its simulated locker board and card reader. Each child is an ordinary
`hallq <command> --device <id>` with its output in a log file; a child that dies is started again with
backoff, as systemd would on a hall board.

Each device runs in its own process group, so stopping it also stops what it started (espeak-ng, a player).
`Reaper` is a small watcher process: if `hallq run` is killed outright (SIGKILL, out of memory) and cannot stop
its children itself, the watcher stops them."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

log = logging.getLogger("hallq.demo")

BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0)
STOP_GRACE_S = 5.0


# The desktop the demo windows are laid out for, and the position variable the Kivy apps read
# (kiosk/ui/setup.py POSITION_ENV; not imported: the server never imports the kiosk package's UI).
LAYOUT_SCREEN = (1920, 1080)
POSITION_ENV = "HALLQ_WINDOW_POSITION"
SCREEN_ENV = "HALLQ_DEMO_SCREEN"


@dataclass(frozen=True)
class Place:
    """Where a device window sits on a 1920×1080 desktop (left, top, width, height); scaled to the real one."""

    left: int
    top: int
    width: int
    height: int

    def scaled(self, factor: float) -> Place:
        return Place(*(round(v * factor) for v in (self.left, self.top, self.width, self.height)))


@dataclass(frozen=True)
class DemoDevice:
    """One floor device of the demo: the `hallq` subcommand that runs it, its device id, and for an app with
    a window its place on the desktop."""

    command: str
    device: str
    extra: tuple[str, ...] = ()
    place: Place | None = None

    @property
    def argv(self) -> list[str]:
        return [sys.executable, "-m", "hallq", self.command, "--device", self.device, *self.extra]


# Side by side on one desktop: the portrait kiosk on the left, the hall and window displays (16:9) stacked in
# the middle, the evaluator (a tablet) on the right; room left above each for its title bar.
DEMO_DEVICES: tuple[DemoDevice, ...] = (
    DemoDevice("printer-agent", "printer-kiosk-01"),
    DemoDevice("printer-agent", "printer-w01"),
    DemoDevice("printer-agent", "printer-w02"),
    DemoDevice("display", "hall-display-1", place=Place(550, 30, 720, 405)),
    DemoDevice("display", "display-w01", place=Place(550, 475, 720, 405)),
    DemoDevice("evaluator", "eval-w01", place=Place(1280, 30, 640, 400)),
    DemoDevice("kiosk", "kiosk-01", place=Place(0, 30, 540, 960)),
    DemoDevice("cabinet", "pickup-cabinet-01"),  # headless; its profile's simulated locker board and card reader
)


def screen_size(env: Mapping[str, str] = os.environ) -> tuple[int, int]:
    """The desktop's size: HALLQ_DEMO_SCREEN=WxH, else what `xdpyinfo` says of the X screen, else 1920×1080."""
    wanted = env.get(SCREEN_ENV, "")
    if match := re.fullmatch(r"\s*(\d{3,5})[xX×](\d{3,5})\s*", wanted):
        return int(match.group(1)), int(match.group(2))
    if env.get("DISPLAY") and shutil.which("xdpyinfo"):
        try:
            out = subprocess.run(["xdpyinfo"], capture_output=True, text=True, timeout=5, env=dict(env)).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        if match := re.search(r"dimensions:\s+(\d+)x(\d+) pixels", out):
            return int(match.group(1)), int(match.group(2))
    return LAYOUT_SCREEN


def laid_out(devices: Sequence[DemoDevice], screen: tuple[int, int]) -> tuple[DemoDevice, ...]:
    """The devices with their windows scaled to fit `screen` (never enlarged): each app gets `--windowed
    --size WxH` and its position in its environment (see `DeviceSupervisor`)."""
    factor = min(screen[0] / LAYOUT_SCREEN[0], screen[1] / LAYOUT_SCREEN[1], 1.0)
    out = []
    for d in devices:
        if d.place is None:
            out.append(d)
            continue
        place = d.place.scaled(factor)
        size = ("--windowed", "--size", f"{max(place.width, 100)}x{max(place.height, 100)}")
        out.append(replace(d, place=place, extra=(*d.extra, *size)))
    return tuple(out)


def device_environment(device: DemoDevice, base: Mapping[str, str]) -> dict[str, str]:
    """A device's environment: the shared one, plus where its window goes."""
    env = dict(base)
    if device.place is not None:
        env[POSITION_ENV] = f"{device.place.left},{device.place.top}"
    return env


def has_screen(env: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Whether Kivy windows can be seen here (X11 or Wayland); without one they render offscreen."""
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


@dataclass
class _Child:
    spec: DemoDevice
    log_file: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0


@dataclass
class DeviceSupervisor:
    """Starts the demo devices, restarts any that exit, stops them all on `stop()`."""

    devices: Sequence[DemoDevice]
    log_dir: Path
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    poll_s: float = 0.5
    monotonic: Callable[[], float] = time.monotonic
    on_spawn: Callable[[int], None] = lambda _pid: None  # each new device process (e.g. Reaper.watch)
    _children: list[_Child] = field(default_factory=list, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)

    def start(self) -> DeviceSupervisor:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._children = [_Child(d, self.log_dir / f"{d.device}.log") for d in self.devices]
        for child in self._children:
            self._spawn(child)
        self._thread = threading.Thread(target=self._watch, name="demo-devices", daemon=True)
        self._thread.start()
        return self

    def running(self) -> dict[str, int | None]:
        """Device id → pid of its live process (None while it waits to be restarted)."""
        return {
            c.spec.device: (c.process.pid if c.process and c.process.poll() is None else None) for c in self._children
        }

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        live = [c.process for c in self._children if c.process and c.process.poll() is None]
        for process in live:
            _signal_group(process.pid, signal.SIGTERM)
        deadline = self.monotonic() + STOP_GRACE_S
        for process in live:
            try:
                process.wait(timeout=max(0.1, deadline - self.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait()

    def _spawn(self, child: _Child) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with child.log_file.open("ab") as out:
            child.process = subprocess.Popen(
                child.spec.argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=device_environment(child.spec, self.env),
                start_new_session=True,  # its own process group: stopped with whatever it started
            )
        self.on_spawn(child.process.pid)

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_s):
            now = self.monotonic()
            for child in self._children:
                process = child.process
                if process is not None and process.poll() is not None:
                    delay = BACKOFF_S[min(child.restarts, len(BACKOFF_S) - 1)]
                    log.warning(
                        "demo: %s exited with %s, restarting in %.0f s (log %s)",
                        child.spec.device,
                        process.returncode,
                        delay,
                        child.log_file,
                    )
                    child.process, child.next_start = None, now + delay
                    child.restarts += 1
                elif process is None and now >= child.next_start:
                    self._spawn(child)


def _signal_group(pid: int, sig: int) -> None:
    """Signal a device's process group (it leads one), or the process alone if it leads none."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _start_time(pid: int) -> str | None:
    """When a live process started (clock ticks since boot), telling it from a later one with its pid;
    None when it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return None if fields[0] in ("Z", "X") else fields[19]


class Reaper:
    """A watcher process that stops the children of `hallq run` when `hallq run` dies without stopping them.

    `watch(pid)` tells it about each child; when its pipe closes (on `close()` after a clean stop, or because
    `hallq run` died) it terminates those still alive, process group and all, and kills them after a grace
    period. It runs in its own session, so Ctrl-C and a closed terminal do not reach it."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self._lock = threading.Lock()
        self._proc = subprocess.Popen(
            [sys.executable, "-c", "from hallserver.demo import reap; reap()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        """The watcher's process id."""
        return self._proc.pid

    def watch(self, pid: int) -> None:
        """Stop this process (and its group, if it leads one) should `hallq run` die."""
        with self._lock:
            stdin = self._proc.stdin
            if stdin is None or stdin.closed:
                return
            try:
                stdin.write(f"{pid}\n".encode("ascii"))
                stdin.flush()
            except OSError as exc:  # the watcher is gone: nothing to do but say so
                log.warning("demo: the child watcher is gone (%s); pid %d is not watched", exc, pid)

    def close(self) -> None:
        """Everything was stopped cleanly: let the watcher check that and exit."""
        with self._lock:
            if self._proc.stdin is not None and not self._proc.stdin.closed:
                with contextlib.suppress(OSError):
                    self._proc.stdin.close()
        try:
            self._proc.wait(timeout=STOP_GRACE_S + 5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


def reap(grace_s: float = STOP_GRACE_S) -> None:
    """The watcher's body (`Reaper`): read pids from stdin until it closes, then stop those still alive."""
    for sig in (signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    watched: dict[int, str] = {}
    for line in sys.stdin.buffer:
        try:
            pid = int(line)
        except ValueError:
            continue
        started = _start_time(pid)
        if started is not None:
            watched[pid] = started
    alive = {pid: started for pid, started in watched.items() if _start_time(pid) == started}
    for pid in alive:
        _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = {pid: started for pid, started in alive.items() if _start_time(pid) == started}
    for pid in alive:
        _signal_group(pid, signal.SIGKILL)


def banner(devices: Sequence[DemoDevice], log_dir: Path, screen: bool) -> str:
    """What `hallq run` prints about the floor devices (in Chinese, for the person at the terminal)."""
    names = "、".join(d.device for d in devices)
    lines = [f"  演示设备   {names}", f"  设备日志   {log_dir}/<设备>.log"]
    if screen:
        lines.append(
            "  自助机、综合屏、窗口屏、评价器各开一个窗口，并排摆放（屏幕大小可用 HALLQ_DEMO_SCREEN=1366x768 指定）；"
            "在自助机右下角“演示”处模拟刷身份证"
        )
    else:
        lines.append(
            "  没有检测到显示器（DISPLAY 未设置）：自助机与显示屏在后台离屏运行。"
            "在有桌面的机器上 make run 会打开它们的窗口；"
            "这里可用 hallq kiosk --device kiosk-02 --screenshot kiosk.png 看一眼自助机界面"
        )
    cabinet = next((d.device for d in devices if d.command == "cabinet"), None)
    if cabinet is not None:
        lines.append(
            f"  证照柜     {cabinet} 在后台运行（模拟柜门控制板）：hallq idcard-sim --device {cabinet} insert resident "
            f"模拟刷证，hallq cabinet-sim --device {cabinet} take 3 模拟取件"
        )
    return "\n".join(lines)
