"""Kivy start-up shared by the hall-floor apps: environment and window size before Kivy opens a window,
the CJK font, and screenshots. With no DISPLAY the Kivy 2.3 wheel renders offscreen through Mesa EGL (what
tests use); SDL_VIDEODRIVER=dummy does not work and is never set here."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

from kiosk.ui.fonts import CjkFont, register_fonts

log = logging.getLogger("hallq.ui")

# Where a windowed device app puts its window on the desktop, "LEFT,TOP" in pixels: `hallq run` gives each demo
# device its own place so the windows sit side by side instead of stacked where the window manager drops them.
POSITION_ENV = "HALLQ_WINDOW_POSITION"


class UiUnavailable(RuntimeError):
    """Kivy or its OpenGL stack cannot open a window here."""


def _default_kivy_home() -> Path:
    # Kivy writes its config and logs under KIVY_HOME; a hall board's service user may have no home.
    base = os.environ.get("STATE_DIRECTORY", "").split(":")[0] or tempfile.gettempdir()
    return Path(base) / f"hallq-kivy-{os.getuid()}"


def prepare(
    width: int,
    height: int,
    *,
    fullscreen: bool = False,
    kivy_home: Path | None = None,
    log_to_python: bool = False,
) -> CjkFont:
    """Set up Kivy for a window of width×height (call before anything imports kivy.core.window) and
    register the CJK font. Safe to call again: later calls only resize the window."""
    if "kivy.core.window" in sys.modules:
        resize(width, height)
        return register_fonts()
    home = kivy_home or Path(os.environ.get("KIVY_HOME") or _default_kivy_home())
    home.mkdir(parents=True, exist_ok=True)
    os.environ["KIVY_HOME"] = str(home)
    os.environ.setdefault("KIVY_NO_ARGS", "1")  # our own command line is not Kivy's
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    # PYTHON: Kivy logs through the host's logging (pytest); MIXED: Kivy's own handler, root logger left alone.
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON" if log_to_python else "MIXED")
    try:
        from kivy.config import Config
    except ImportError as exc:
        raise UiUnavailable(f"未安装 Kivy：pip install 'hallq[ui]'（{exc}）") from exc
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "resizable", "0" if fullscreen else "1")
    position = window_position(os.environ.get(POSITION_ENV))
    if position is not None and not fullscreen:
        Config.set("graphics", "position", "custom")
        Config.set("graphics", "left", str(position[0]))
        Config.set("graphics", "top", str(position[1]))
    Config.set("kivy", "exit_on_escape", "0")  # a citizen must not close the screen with a key
    Config.set("input", "mouse", "mouse,disable_multitouch")
    return register_fonts()


def window_position(value: str | None) -> tuple[int, int] | None:
    """ "LEFT,TOP" → (left, top); None when unset or malformed (the window manager then places the window)."""
    if not value:
        return None
    try:
        left, top = (int(part) for part in value.split(","))
    except ValueError:
        log.warning("ui: ignoring %s=%r (expected LEFT,TOP in pixels)", POSITION_ENV, value)
        return None
    return (left, top) if left >= 0 and top >= 0 else None


def resize(width: int, height: int) -> None:
    """Resize the open window (tests switch layouts in one process)."""
    from kivy.core.window import Window

    if tuple(Window.size) != (width, height):
        Window.size = (width, height)


def open_window() -> object:
    """Create the window now (tests; an App does it itself) and return it; UiUnavailable with the reason."""
    try:
        from kivy.base import EventLoop

        EventLoop.ensure_window()
    except Exception as exc:
        raise UiUnavailable(f"无法打开窗口（需要 libgl1-mesa-dri、libegl1、libgles2）：{exc}") from exc
    window = EventLoop.window
    if window is None:
        raise UiUnavailable(
            "无法打开窗口：Kivy 没有可用的窗口后端（需要 libgl1-mesa-dri、libegl1、libgles2、libmtdev1）"
        )
    return window


def screenshot(path: Path) -> Path:
    """Save what the window shows as PNG at exactly `path` (Kivy itself appends 0001 to the name)."""
    from kivy.core.window import Window

    path.parent.mkdir(parents=True, exist_ok=True)
    written = Window.screenshot(name=str(path.resolve()))
    if not written:
        raise UiUnavailable(f"截图失败：{path}")
    Path(written).replace(path)
    return path
