"""`evaluator_command`, which the main CLI mounts as `hallq evaluator --device eval-w03`: the tablet app, or
a headless agent when the profile has an RS-485 key box; and `keybox_simulator_command` for demos. Only typer
is imported with this module: profiles, bus and Kivy are imported when a command runs."""

from __future__ import annotations

import signal
import threading
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
    fail,
    hall_now,
)
from kiosk.ui.runner import DeviceRunner

if TYPE_CHECKING:
    from kiosk.evaluator.service import EvaluatorService

TABLET = (1280, 800)


def evaluator_command(
    device: DeviceOption,
    hall_dir: HallDirOption = None,
    secret_dir: SecretDirOption = None,
    broker_host: BrokerHostOption = None,
    broker_port: BrokerPortOption = None,
    fullscreen: FullscreenOption = None,
    size: SizeOption = None,
    screenshot: ScreenshotOption = None,
) -> None:
    """Run a window's evaluator: rate each finished visit (好差评) on the tablet or the key box."""
    from firmware_config.devices import EvaluatorProfile
    from kiosk.evaluator.service import EvaluatorService

    runner = DeviceRunner(
        device, ("evaluator",), hall_dir=hall_dir, secret_dir=secret_dir, broker_host=broker_host,
        broker_port=broker_port, fullscreen=fullscreen, size=size, screenshot=screenshot,
    )  # fmt: skip
    setup = runner.setup()
    profile = setup.profile
    assert isinstance(profile, EvaluatorProfile)
    service = EvaluatorService(profile, setup.bus, hall_now(setup.bus.timezone))
    if profile.keybox is not None:
        _run_keybox(service)
        return
    ui = runner.open_ui("kiosk.evaluator.app", lambda _fs: TABLET)
    runner.run(
        ui.EvaluatorApp(service, setup.hall_name),
        f"{profile.name}（{device}）：消息代理 {setup.bus.host}:{setup.bus.port}",
    )


def _run_keybox(service: EvaluatorService) -> None:
    """Headless: key presses rate the prompted visit; timers tick here."""
    from kiosk import watchdog

    keybox = service.profile.keybox
    assert keybox is not None
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        service.start()
    except OSError as exc:
        raise fail(f"无法打开评价按键盒串口 {keybox.port}：{exc}") from exc
    watchdog.ready(f"{service.profile.name}（按键盒 {keybox.port}）已启动")
    typer.echo(f"{service.profile.name}：按键盒 {keybox.port}（{keybox.baudrate} 波特），等待评价")
    interval = watchdog.watchdog_interval()
    last_ping = 0.0
    try:
        while not stop.wait(0.25):
            service.controller.tick()
            if interval:
                last_ping += 0.25
                if last_ping >= interval / 2:
                    watchdog.watchdog_ping()
                    last_ping = 0.0
    finally:
        watchdog.stopping()
        service.stop()


def keybox_simulator_command(
    address: Annotated[int, typer.Option(min=0, max=255, help="Box address on the RS-485 line")] = 1,
) -> None:
    """Run a simulated RS-485 key box on a pseudo-terminal; type 1–5 and Enter to press a key."""
    from kiosk.evaluator.keybox_sim import KeyBoxSimulator

    sim = KeyBoxSimulator(address)
    typer.echo(f"模拟评价按键盒：串口 {sim.port}（在 devices.yaml 的 keybox.port 中填写它）")
    typer.echo("输入 1（非常满意）… 5（非常不满意）后回车；Ctrl-D 退出")
    try:
        while True:
            try:
                line = input("> ").strip()
            except EOFError:
                break
            if line.isdigit():
                acked = sim.press(int(line))
                typer.echo("已确认" if acked else "主机未应答")
    finally:
        sim.close()
