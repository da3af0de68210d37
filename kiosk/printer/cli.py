"""Command line of printing: `printer_app` (preview, simulator, samples, agent) and `agent_command`, which the
main CLI mounts as `hallq printer-agent --device printer-kiosk-01`."""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from broker.client import BusSettings
from firmware_config.devices import PrinterProfile
from firmware_config.paths import PROJECT_ROOT
from kiosk.printer.decoder import decode
from kiosk.printer.preview import save_preview
from kiosk.printer.samples import SAMPLES
from kiosk.printer.simulator import PrinterSimulator
from kiosk.printer.status import Paper
from kiosk.settings import DeviceSettings

# python-escpos (imported by the layout) calls logging.basicConfig() on import: it is only imported inside
# the commands that lay documents out, so mounting these commands leaves the main CLI's logging alone.
printer_app = typer.Typer(help="Ticket printers (ESC/POS): preview, simulator, agent", no_args_is_help=True)
DEFAULT_STATE_DIR = PROJECT_ROOT / "var" / "printer"
DOTS = {58: 384, 80: 576}


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _width(width: int) -> int:
    if width not in (58, 80):
        raise _fail(f"纸宽只能是 58 或 80（毫米），不是 {width}")
    return width


@printer_app.command("preview")
def preview_command(
    capture: Annotated[Path, typer.Argument(help="Captured ESC/POS bytes (from the simulator or a file printer)")],
    out: Annotated[Path, typer.Argument(help="PNG to write")],
    width: Annotated[int, typer.Option(help="Paper width in mm: 58 or 80")] = 80,
    text: Annotated[bool, typer.Option(help="Also print the decoded text lines")] = False,
) -> None:
    """Decode captured bytes and draw them as they would come out of the printer."""
    try:
        data = capture.read_bytes()
    except OSError as exc:
        raise _fail(f"无法读取 {capture}：{exc}") from exc
    decoded = decode(data)
    save_preview(decoded, DOTS[_width(width)], out)
    if text:
        for line in decoded.lines:
            typer.echo(line)
    typer.echo(
        f"{out}：{len(decoded.documents())} 份单据，{len(decoded.qr_codes)} 个二维码，"
        f"{decoded.cuts} 次切纸" + (f"，{len(decoded.problems)} 处无法解析" if decoded.problems else "")
    )
    for problem in decoded.problems[:10]:
        typer.echo(f"  {problem}", err=True)


@printer_app.command("simulator")
def simulator_command(
    port: Annotated[int, typer.Option(help="TCP port (0 picks a free one)")] = 9100,
    host: Annotated[str, typer.Option(help="Bind address")] = "127.0.0.1",
    capture: Annotated[Path | None, typer.Option(help="Append every printed byte to this file")] = None,
    paper_state: Annotated[str, typer.Option("--paper", help="Paper sensor: ok, near_end or out")] = "ok",
    cover_open: Annotated[bool, typer.Option("--cover-open", help="Report the cover open")] = False,
    offline: Annotated[bool, typer.Option(help="Never answer status queries")] = False,
) -> None:
    """Run a network ESC/POS printer that shows what it prints (Ctrl-C to stop)."""
    if paper_state not in ("ok", "near_end", "out"):
        raise _fail(f"--paper 只能是 ok、near_end 或 out，不是 {paper_state}")
    state: Paper = paper_state  # type: ignore[assignment]
    sim = PrinterSimulator(
        host, port, capture_file=capture, paper=state, cover="open" if cover_open else "closed", offline=offline
    )
    try:
        sim.start()
    except OSError as exc:
        raise _fail(f"无法监听 {host}:{port}：{exc}") from exc
    typer.echo(f"模拟打印机已启动：{host}:{sim.port}" + (f"，打印内容追加到 {capture}" if capture else ""))
    stop = _stop_on_signals()
    shown = 0
    try:
        while not stop.wait(0.2):
            done = [c for c in sim.captures if c.closed]
            for c in done[shown:]:
                if c.data:
                    decoded = decode(bytes(c.data))
                    typer.echo(f"--- {c.peer} {len(c.data)} 字节，二维码 {decoded.qr_codes} ---")
                    for line in decoded.lines:
                        if line.strip():
                            typer.echo(line)
            shown = len(done)
    finally:
        sim.stop()


@printer_app.command("samples")
def samples_command(
    out_dir: Annotated[Path, typer.Argument(help="Folder for the .bin captures and .png previews")],
) -> None:
    """Render a sample of every document kind at 58 and 80 mm (bytes and PNG preview)."""
    from kiosk.printer.layout import render

    out_dir.mkdir(parents=True, exist_ok=True)
    for kind, document in SAMPLES.items():
        for width in (58, 80):
            data = render(kind, document, width)
            (out_dir / f"{kind}-{width}.bin").write_bytes(data)
            save_preview(decode(data), DOTS[width], out_dir / f"{kind}-{width}.png")
    typer.echo(f"样张已写入 {out_dir}")


def _stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT (main thread only)."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _profile_and_bus(
    device: str,
    hall_dir: Path | None,
    secret_dir: Path | None,
    broker_host: str | None,
    broker_port: int | None,
) -> tuple[PrinterProfile, BusSettings]:
    """The printer's profile and broker login, found as every floor device finds its own (kiosk.ui.device:
    a provisioned board's device.json and credentials from the environment, else the hall folder)."""
    from kiosk.ui.device import DeviceSetupError, load_device  # no Kivy: kiosk.ui.device is plain Python

    try:
        setup = load_device(device, ("printer",), hall_dir, secret_dir, broker_host, broker_port)
    except DeviceSetupError as exc:
        raise _fail(str(exc)) from exc
    assert isinstance(setup.profile, PrinterProfile)
    return setup.profile, setup.bus


def agent_command(
    device: Annotated[
        str, typer.Option("--device", envvar="HALLQ_DEVICE_ID", help="Printer device id, e.g. printer-kiosk-01")
    ],
    hall_dir: Annotated[
        Path | None, typer.Option(help="Hall folder (hall.yaml, devices.yaml); default HALLQ_HALL_DIR")
    ] = None,
    secret_dir: Annotated[Path | None, typer.Option(help="Broker passwords; default HALLQ_SECRET_DIR")] = None,
    state_dir: Annotated[
        Path | None, typer.Option(help="Job journal folder; default $STATE_DIRECTORY, else var/printer")
    ] = None,
    broker_host: Annotated[str | None, typer.Option(help="MQTT broker; default HALLQ_BROKER_HOST")] = None,
    broker_port: Annotated[int | None, typer.Option(help="MQTT port; default HALLQ_BROKER_PORT")] = None,
) -> None:
    """Run the printer agent of one printer: print its jobs, report results and paper status."""
    from kiosk.printer.agent import PrinterAgent

    profile, bus = _profile_and_bus(device, hall_dir, secret_dir, broker_host, broker_port)
    # force: python-escpos calls logging.basicConfig() when imported
    logging.basicConfig(
        level=DeviceSettings().log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    folder = state_dir or Path(os.environ.get("STATE_DIRECTORY", "").split(":")[0] or DEFAULT_STATE_DIR)
    agent = PrinterAgent(profile, bus, folder, clock=DeviceSettings().hall_clock().now)  # the server's (demo) time
    stop = _stop_on_signals()
    agent.start()
    typer.echo(
        f"打印机代理已启动：{profile.name}（{device}，{profile.paper_width_mm} 毫米），"
        f"消息代理 {bus.host}:{bus.port}，任务日志 {agent.journal.path}"
    )
    if agent.simulator is not None:
        typer.echo(
            f"演示模式：模拟打印机 {agent.simulator.host}:{agent.simulator.port}，打印内容写入 "
            f"{agent.simulator.capture_file}（预览：hallq printer preview {agent.simulator.capture_file} out.png "
            f"--width {profile.paper_width_mm}）"
        )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        agent.stop()
        typer.echo("打印机代理已停止")


printer_app.command("agent")(agent_command)


if __name__ == "__main__":
    printer_app()
