"""The one runner of the hall-floor Kivy apps (`hallq kiosk`, `hallq display`, `hallq evaluator`): logging from
the environment, the device's profile and broker login, the window, the start-up line, an optional screenshot,
and the app's run. Nothing heavy is imported here: each step imports what it needs when it runs, so a
command's `--help` stays fast (no pydantic profiles, broker client or Kivy)."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import typer

from kiosk.ui.cli import fail, full_screen, window_size

if TYPE_CHECKING:
    from kiosk.ui.device import DeviceSetup


def start_logging() -> None:
    """Log lines with time, level and logger at the level HALLQ_LOG_LEVEL asks (default info)."""
    from kiosk.settings import DeviceSettings

    logging.basicConfig(
        level=DeviceSettings().log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def load_setup(
    device: str,
    types: tuple[str, ...],
    hall_dir: Path | None,
    secret_dir: Path | None,
    broker_host: str | None,
    broker_port: int | None,
) -> DeviceSetup:
    """The device's profile (one of `types`) and broker login, or exit 1 with the reason in Chinese."""
    from kiosk.ui.device import DeviceSetupError, load_device

    try:
        return load_device(device, types, hall_dir, secret_dir, broker_host, broker_port)
    except DeviceSetupError as exc:
        raise fail(str(exc)) from exc


class DeviceRunner:
    """Runs one device app from its command's shared options (see kiosk.ui.cli)."""

    def __init__(
        self,
        device: str,
        types: tuple[str, ...],
        *,
        hall_dir: Path | None = None,
        secret_dir: Path | None = None,
        broker_host: str | None = None,
        broker_port: int | None = None,
        fullscreen: bool | None = None,
        size: str | None = None,
        screenshot: Path | None = None,
    ) -> None:
        self.device = device
        self.types = types
        self.hall_dir, self.secret_dir = hall_dir, secret_dir
        self.broker_host, self.broker_port = broker_host, broker_port
        self.fullscreen = full_screen(fullscreen)
        self.size = size
        self.screenshot = screenshot

    def setup(self) -> DeviceSetup:
        """Start logging, then find the device's profile and login (exit 1 when it cannot start)."""
        start_logging()
        return load_setup(self.device, self.types, self.hall_dir, self.secret_dir, self.broker_host, self.broker_port)

    def open_ui(self, app_module: str, default_size: Callable[[bool], tuple[int, int]]) -> ModuleType:
        """Set Kivy up for the window (--size, else `default_size(fullscreen)`) and import the app module,
        which may import Kivy only now (exit 1 when there is no Kivy or no OpenGL)."""
        from kiosk.ui import setup as ui_setup

        width, height = window_size(self.size, default_size(self.fullscreen))
        try:
            ui_setup.prepare(width, height, fullscreen=self.fullscreen)
            return importlib.import_module(app_module)
        except ui_setup.UiUnavailable as exc:
            raise fail(str(exc)) from exc

    def run(self, app: Any, banner: str) -> None:
        """Print the start-up line, then run the app until it stops (after one screenshot with --screenshot)."""
        typer.echo(banner)
        if self.screenshot is not None:
            shoot_then_stop(app, self.screenshot)
        app.run()


def shoot_then_stop(app: Any, path: Path, delay_s: float = 2.0) -> None:
    """Save one screenshot a little after the app starts, then stop it."""
    from kivy.clock import Clock

    from kiosk.ui.setup import screenshot

    def shoot(_dt: float) -> None:
        typer.echo(f"截图：{screenshot(path)}")
        app.stop()

    Clock.schedule_once(shoot, delay_s)
