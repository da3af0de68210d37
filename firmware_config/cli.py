"""`hallq provision`: render every device's credentials, config and systemd unit from the hall profile."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

import typer

from firmware_config.devices import DeviceProfileError
from firmware_config.hall import ProfileError
from firmware_config.provision import (
    DEFAULT_EXEC,
    ProvisionError,
    load_hall_devices,
    provision,
    summary_lines,
)
from firmware_config.settings import HallFiles


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def provision_command(
    hall_dir: Annotated[
        Path | None, typer.Option(help="大厅配置目录（hall.yaml、devices.yaml），默认 HALLQ_HALL_DIR")
    ] = None,
    secret_dir: Annotated[Path | None, typer.Option(help="密钥目录（设备的代理密码），默认 HALLQ_SECRET_DIR")] = None,
    out: Annotated[Path, typer.Option(help="输出目录：每台设备一个子目录")] = Path("var/provision"),
    broker_host: Annotated[str, typer.Option(help="设备连接的消息代理地址")] = "127.0.0.1",
    broker_port: Annotated[int, typer.Option(min=1, max=65535, help="消息代理端口")] = 1883,
    tls: Annotated[bool, typer.Option("--tls/--no-tls", help="设备以 TLS 连接代理（正式大厅必须启用）")] = False,
    ca_file: Annotated[Path | None, typer.Option(help="TLS 的 CA 证书（PEM），随设备文件分发")] = None,
    exec_prefix: Annotated[str, typer.Option(help="设备主板上 hallq 命令的绝对路径")] = DEFAULT_EXEC,
    user: Annotated[str, typer.Option(help="设备服务的运行用户")] = "hallq",
    check: Annotated[bool, typer.Option("--check", help="只校验设备配置并显示汇总，不写任何文件")] = False,
) -> None:
    """Validate devices.yaml and write each device's credentials, config and systemd unit (设备配置下发)."""
    files = HallFiles()
    hall_dir, secret_dir = hall_dir or files.hall_dir, secret_dir or files.secret_dir
    try:
        if check:
            hall, devices = load_hall_devices(hall_dir)
            typer.echo("\n".join(["设备配置校验通过：", *summary_lines(hall, devices)]))
            return
        result = provision(hall_dir, secret_dir, out, broker_host, broker_port, tls, ca_file, exec_prefix, user)
    except (ProfileError, DeviceProfileError, ProvisionError) as exc:
        raise _fail(str(exc)) from exc
    typer.echo(result.summary())
    typer.echo(
        f"已写入 {out.resolve()}：每台设备的 credentials.env、device.json 和 systemd 单元，安装说明见 README.txt"
    )
    if result.stale:
        typer.secho(f"提示：输出目录中这些设备已不在 devices.yaml 中，请删除：{', '.join(result.stale)}", fg="yellow")
    if _is_loopback(broker_host):
        typer.secho(f"提示：代理地址 {broker_host} 只在本机可达，仅适用于单机演示", fg=typer.colors.YELLOW)
    if not tls:
        typer.secho("提示：未启用 TLS，正式运行的大厅请使用 --tls --ca-file", fg=typer.colors.YELLOW)
