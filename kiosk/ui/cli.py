"""Command-line pieces shared by `hallq kiosk`, `hallq display` and `hallq evaluator`. Light on purpose: the
commands' `--help` imports this module, so settings are imported only where they are read."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from firmware_config.paths import PROJECT_ROOT

DeviceOption = Annotated[
    str, typer.Option("--device", envvar="HALLQ_DEVICE_ID", help="Device id from devices.yaml, e.g. display-w03")
]
HallDirOption = Annotated[
    Path | None, typer.Option(help="Hall folder (hall.yaml, devices.yaml); default HALLQ_HALL_DIR")
]
SecretDirOption = Annotated[Path | None, typer.Option(help="Broker passwords; default HALLQ_SECRET_DIR")]
BrokerHostOption = Annotated[str | None, typer.Option(help="MQTT broker; default HALLQ_BROKER_HOST")]
BrokerPortOption = Annotated[int | None, typer.Option(help="MQTT port; default HALLQ_BROKER_PORT")]
FullscreenOption = Annotated[
    bool | None, typer.Option("--fullscreen/--windowed", help="Default: full screen under systemd, else a window")
]
SizeOption = Annotated[str | None, typer.Option(help="Window size WIDTHxHEIGHT, e.g. 1920x1080")]
ScreenshotOption = Annotated[
    Path | None, typer.Option(help="Connect, save one screenshot (PNG) after a few seconds, and exit")
]


def fail(message: str) -> typer.Exit:
    """Print a red error and give the exit to raise."""
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def window_size(size: str | None, default: tuple[int, int]) -> tuple[int, int]:
    """'1920x1080' → (1920, 1080)."""
    if size is None:
        return default
    match = re.fullmatch(r"(\d{3,5})[xX×](\d{3,5})", size.strip())
    if not match:
        raise fail(f"--size 应写作 宽x高，如 1920x1080，不是 {size}")
    return int(match.group(1)), int(match.group(2))


def full_screen(choice: bool | None) -> bool:
    """Full screen when asked, or by default when systemd runs us (a board)."""
    return choice if choice is not None else bool(os.environ.get("NOTIFY_SOCKET"))


def state_dir(kind: str) -> Path:
    """$STATE_DIRECTORY on a board (systemd), else var/<kind> in the project."""
    return Path(os.environ.get("STATE_DIRECTORY", "").split(":")[0] or PROJECT_ROOT / "var" / kind)


def hall_now(timezone: str) -> Callable[[], datetime]:
    """The hall's time in its zone: the wall clock, or the demo clock `hallq run` hands its devices
    (HALLQ_CLOCK_START and HALLQ_CLOCK_SET_AT), so a device shows the same time as the server."""
    from kiosk.settings import DeviceSettings

    clock, zone = DeviceSettings().hall_clock(), ZoneInfo(timezone)
    return lambda: clock.now().astimezone(zone)
