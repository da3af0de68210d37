"""`hallq idcard-sim`: run the ID card reader simulator on a pty with its control socket, or, with
`--device kiosk-01`, swipe cards on the simulated reader of that running demo kiosk:
`hallq idcard-sim --device kiosk-01 insert resident`, `… remove`, `… list`, `… status` (no command:
an interactive prompt)."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer

from kiosk.idcard.control import ControlServer, DeviceLine, handle_command, running_devices, socket_path
from kiosk.idcard.identities import DEFAULT_IDENTITIES, IdentitiesError
from kiosk.idcard.simulator import FAULTS, IdCardSimulator


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def idcard_simulator_command(
    command: Annotated[
        list[str] | None, typer.Argument(help="With --device: insert <key> | remove | fault <kind> | list | status")
    ] = None,
    device: Annotated[
        str | None, typer.Option(help="Swipe cards on this running demo kiosk's simulated reader instead")
    ] = None,
    identities: Annotated[Path, typer.Option(help="Test identities (YAML)")] = DEFAULT_IDENTITIES,
    control_port: Annotated[int, typer.Option(help="TCP control port (0 picks a free one)")] = 0,
    host: Annotated[str, typer.Option(help="Control socket bind address")] = "127.0.0.1",
    insert: Annotated[str | None, typer.Option(help="Identity key to put on the reader at start")] = None,
) -> None:
    """Run a simulated ID card reader (SAM_V) on a pseudo-terminal; swipe cards over a TCP control socket.
    With --device, control the reader of a running demo kiosk."""
    if device is not None:
        _control_kiosk(device, [*command] if command else [], insert)
        return
    if command:
        raise _fail("命令只能和 --device 一起使用（例如：hallq idcard-sim --device kiosk-01 insert resident）")
    try:
        sim = IdCardSimulator(identities)
    except IdentitiesError as exc:
        raise _fail(str(exc)) from None
    try:
        control = ControlServer(sim, host, control_port).start()
    except OSError as exc:
        sim.close()
        raise _fail(f"无法监听 {host}:{control_port}：{exc}") from None
    try:
        if insert:
            typer.echo(handle_command(sim, f"insert {insert}"))
        typer.echo(f"模拟身份证阅读器：串口 {sim.port}（在 devices.yaml 的 id_reader.port 中填写它）")
        typer.echo(f"控制端口：{control.host}:{control.port}")
        typer.echo(f"测试身份：{' '.join(sim.identities)}")
        typer.echo(f"命令：insert <身份> | remove | fault <{'|'.join(FAULTS)}|none> | list | status")
        _run(sim)
    finally:
        control.stop()
        sim.close()


def _control_kiosk(device: str, words: list[str], insert: str | None) -> None:
    """One command (or a prompt) on a running kiosk's simulated reader; exit 1 when it answers `error`."""
    try:
        path = socket_path(device)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    try:
        line = DeviceLine(device)
    except OSError:
        running = running_devices()
        where = f"正在运行的模拟阅读器：{'、'.join(running)}" if running else "当前没有正在运行的模拟阅读器"
        raise _fail(
            f"找不到自助机 {device} 的模拟身份证阅读器（{path}）：请确认它正在运行（hallq run 或 hallq kiosk），"
            f"且 devices.yaml 中它的 id_reader.type 为 simulator。{where}"
        ) from None
    try:
        commands = [" ".join(words)] if words else ([f"insert {insert}"] if insert else [])
        if not commands:
            _prompt(line)
            return
        for command in commands:
            reply = line.ask(command)
            typer.echo(reply)
            if not reply.startswith("ok"):
                raise typer.Exit(code=1)
    except OSError as exc:
        raise _fail(f"与自助机 {device} 的连接中断：{exc}") from None
    finally:
        line.close()


def _prompt(line: DeviceLine) -> None:
    while True:
        try:
            text = input("> ")
        except (EOFError, KeyboardInterrupt):
            return
        if text.strip():
            typer.echo(line.ask(text))


def _run(sim: IdCardSimulator) -> None:
    """Take commands from a terminal, or just wait for SIGINT/SIGTERM when run in the background."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if not sys.stdin.isatty():
        stop.wait()
        return
    while not stop.is_set():
        try:
            line = input("> ")
        except (EOFError, KeyboardInterrupt):
            return
        if line.strip():
            typer.echo(handle_command(sim, line))
