"""`hallq idcard-sim`: run the ID card reader simulator on a pty with its control socket."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer

from kiosk.idcard.control import ControlServer, handle_command
from kiosk.idcard.identities import DEFAULT_IDENTITIES, IdentitiesError
from kiosk.idcard.simulator import FAULTS, IdCardSimulator


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def idcard_simulator_command(
    identities: Annotated[Path, typer.Option(help="Test identities (YAML)")] = DEFAULT_IDENTITIES,
    control_port: Annotated[int, typer.Option(help="TCP control port (0 picks a free one)")] = 0,
    host: Annotated[str, typer.Option(help="Control socket bind address")] = "127.0.0.1",
    insert: Annotated[str | None, typer.Option(help="Identity key to put on the reader at start")] = None,
) -> None:
    """Run a simulated ID card reader (SAM_V) on a pseudo-terminal; swipe cards over a TCP control socket."""
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
