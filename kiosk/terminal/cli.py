"""`kiosk_command`, which the main CLI mounts as `hallq kiosk --device kiosk-01`: the self-service kiosk.
Only typer is imported with this module: profiles, bus and Kivy are imported when the command runs."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kiosk.ui.cli import (
    BrokerHostOption,
    BrokerPortOption,
    DeviceOption,
    FullscreenOption,
    HallDirOption,
    ScreenshotOption,
    SecretDirOption,
    SizeOption,
    hall_now,
    state_dir,
)
from kiosk.ui.runner import DeviceRunner

if TYPE_CHECKING:
    from firmware_config.devices import KioskProfile


def default_size(profile: KioskProfile, fullscreen: bool) -> tuple[int, int]:
    """Full HD in the profile's orientation on a board; half of it in a window on a desk."""
    width, height = (1080, 1920) if profile.orientation == "portrait" else (1920, 1080)
    return (width, height) if fullscreen else (width // 2, height // 2)


def single_readings_only() -> None:
    """A kiosk reads pinyin one character at a time (its search index: every reading of each character, from
    pypinyin's character table); it never needs pypinyin's phrase table, which costs ~44 MB once loaded. Tell
    pypinyin to skip it — only in the kiosk's own process, and only before anything has imported pypinyin."""
    if "pypinyin" not in sys.modules:
        os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")


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
    from firmware_config.devices import KioskProfile

    single_readings_only()
    runner = DeviceRunner(
        device, ("kiosk",), hall_dir=hall_dir, secret_dir=secret_dir, broker_host=broker_host,
        broker_port=broker_port, fullscreen=fullscreen, size=size, screenshot=screenshot,
    )  # fmt: skip
    setup = runner.setup()
    profile = setup.profile
    assert isinstance(profile, KioskProfile)
    if elderly is not None:
        profile = profile.model_copy(update={"elderly_mode": elderly})
        setup = type(setup)(profile, setup.bus, setup.hall_name, setup.hall, setup.devices, setup.config)
    ui = runner.open_ui("kiosk.terminal.app", lambda fs: default_size(profile, fs))
    from kiosk.terminal.assemble import build_kiosk

    kiosk = build_kiosk(
        setup,
        cache_dir or state_dir("kiosk") / device,
        clock=hall_now(setup.bus.timezone),
        runner=ui.thread_runner,
        post=ui.on_ui,
    )
    banner = f"{profile.name}（{device}）：消息代理 {setup.bus.host}:{setup.bus.port}"
    if kiosk.cards.simulated:
        banner += "\n身份证阅读器：模拟器（屏幕下方“演示：刷身份证”可选择测试身份证）"
    from kiosk.terminal.guidance import VoiceGuide

    voice = VoiceGuide.offline((cache_dir or state_dir("kiosk") / device) / "voice")  # 大字版 speaks each step
    app = ui.KioskApp(kiosk.flows, kiosk.service, kiosk.cards, voice)
    kiosk.watch_catalog(lambda: ui.on_ui(lambda: kiosk.session.update()))
    runner.run(app, banner)
