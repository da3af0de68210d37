"""`kiosk_command`, which the main CLI mounts as `hallq kiosk --device kiosk-01`: the self-service kiosk."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from firmware_config.devices import KioskProfile
from kiosk.settings import DeviceSettings
from kiosk.ui.cli import (
    BrokerHostOption,
    BrokerPortOption,
    DeviceOption,
    FullscreenOption,
    HallDirOption,
    ScreenshotOption,
    SecretDirOption,
    SizeOption,
    fail,
    full_screen,
    hall_now,
    state_dir,
    window_size,
)
from kiosk.ui.device import DeviceSetupError, load_device


def default_size(profile: KioskProfile, fullscreen: bool) -> tuple[int, int]:
    """Full HD in the profile's orientation on a board; half of it in a window on a desk."""
    width, height = (1080, 1920) if profile.orientation == "portrait" else (1920, 1080)
    return (width, height) if fullscreen else (width // 2, height // 2)


def kiosk_command(
    device: DeviceOption,
    hall_dir: HallDirOption = None,
    secret_dir: SecretDirOption = None,
    broker_host: BrokerHostOption = None,
    broker_port: BrokerPortOption = None,
    fullscreen: FullscreenOption = None,
    size: SizeOption = None,
    elderly: Annotated[bool | None, typer.Option("--elderly/--standard", help="Default: the profile's")] = None,
    screenshot: ScreenshotOption = None,
    cache_dir: Annotated[Path | None, typer.Option(help="Catalog cache; default var/kiosk/<device>")] = None,
) -> None:
    """Run a self-service kiosk: 取号, 预约签到, 办事指南, 进度查询, 服务评价, 呼叫工作人员."""
    logging.basicConfig(
        level=DeviceSettings().log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        setup = load_device(device, ("kiosk",), hall_dir, secret_dir, broker_host, broker_port)
    except DeviceSetupError as exc:
        raise fail(str(exc)) from exc
    profile = setup.profile
    assert isinstance(profile, KioskProfile)
    if elderly is not None:
        profile = profile.model_copy(update={"elderly_mode": elderly})
        setup = type(setup)(profile, setup.bus, setup.hall_name, setup.hall, setup.devices, setup.config)
    fs = full_screen(fullscreen)
    width, height = window_size(size, default_size(profile, fs))
    from kiosk.ui.setup import UiUnavailable, prepare

    try:
        prepare(width, height, fullscreen=fs)
        from kiosk.terminal.app import KioskApp, on_ui, thread_runner
    except UiUnavailable as exc:
        raise fail(str(exc)) from exc
    from kiosk.terminal.assemble import build_kiosk

    kiosk = build_kiosk(
        setup,
        cache_dir or state_dir("kiosk") / device,
        clock=hall_now(setup.bus.timezone),
        runner=thread_runner,
        post=on_ui,
    )
    typer.echo(f"{profile.name}（{device}）：消息代理 {setup.bus.host}:{setup.bus.port}")
    if kiosk.cards.simulated:
        typer.echo("身份证阅读器：模拟器（屏幕下方“演示：刷身份证”可选择测试身份证）")
    app = KioskApp(kiosk.flows, kiosk.service, kiosk.cards)
    kiosk.watch_catalog(lambda: on_ui(lambda: kiosk.session.update()))
    if screenshot is not None:
        from kiosk.display.cli import _shoot_then_stop

        _shoot_then_stop(app, screenshot)
    app.run()
