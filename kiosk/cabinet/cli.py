"""`hallq cabinet --device pickup-cabinet-01`: run a pickup cabinet (headless: board, ID card reader, bus), and
`hallq cabinet-sim --device pickup-cabinet-01 take 3`: move the hands around a running cabinet's simulated
board. Only typer is imported with this module."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from kiosk.ui.cli import BrokerHostOption, BrokerPortOption, DeviceOption, HallDirOption, SecretDirOption, fail


def cabinet_command(
    device: DeviceOption,
    hall_dir: HallDirOption = None,
    secret_dir: SecretDirOption = None,
    broker_host: BrokerHostOption = None,
    broker_port: BrokerPortOption = None,
) -> None:
    """Run a pickup cabinet (证照自助领取柜): an ID card read on it opens the doors holding that person's 证照."""
    from firmware_config.devices import PickupCabinetProfile
    from kiosk import watchdog
    from kiosk.cabinet.board import BoardError
    from kiosk.cabinet.hardware import open_hardware
    from kiosk.cabinet.service import CabinetService
    from kiosk.ui.cli import hall_now
    from kiosk.ui.runner import load_setup, start_logging

    start_logging()
    setup = load_setup(device, ("pickup_cabinet",), hall_dir, secret_dir, broker_host, broker_port)
    profile = setup.profile
    assert isinstance(profile, PickupCabinetProfile)
    holder: list[CabinetService] = []
    try:
        hw = open_hardware(profile, lambda event: holder[0].on_card_event(event) if holder else None)
    except (OSError, BoardError, ValueError) as exc:
        raise fail(f"{profile.name}：硬件不可用：{exc}") from exc
    service = CabinetService(profile, setup.bus, hw.board, hall_now(setup.bus.timezone))
    holder.append(service)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        service.start()
        simulated = "（模拟柜门控制板与身份证阅读器）" if hw.board_sim is not None else ""
        typer.echo(
            f"{profile.name}（{device}）：{profile.doors} 个柜门{simulated}，消息代理 {setup.bus.host}:{setup.bus.port}"
        )
        watchdog.ready(f"{profile.name} 已启动")
        while not stop.wait(1.0):
            watchdog.watchdog_ping()
    finally:
        watchdog.stopping()
        service.stop()
        hw.close()


def cabinet_simulator_command(
    command: Annotated[list[str], typer.Argument(help="put <door> | take <door> | shut <door> | fault <k> | status")],
    device: Annotated[str, typer.Option(help="The running demo cabinet")] = "pickup-cabinet-01",
) -> None:
    """Act on a running cabinet's simulated board: load, empty or shut a door, or read its state."""
    from kiosk.cabinet.control import board_socket_dir
    from kiosk.idcard.control import DeviceLine, socket_path

    try:
        line = DeviceLine(device, board_socket_dir())
    except ValueError as exc:
        raise fail(str(exc)) from None
    except OSError:
        where = socket_path(device, board_socket_dir()) if device else ""
        raise fail(f"找不到正在运行的模拟领取柜 {device}（{where}）：请确认 hallq cabinet 正在运行") from None
    try:
        reply = line.ask(" ".join(command))
    finally:
        line.close()
    typer.echo(reply)
    if not reply.startswith("ok"):
        raise typer.Exit(code=1)
