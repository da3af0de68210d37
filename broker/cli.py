"""`hallq broker`: render the hall's Mosquitto configuration, or render and run it in the foreground."""

from __future__ import annotations

import ipaddress
import signal
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from broker.mosquitto import BrokerError, BrokerFiles, BrokerProcess, render
from broker.tls import provision_tls
from firmware_config.devices import DeviceProfileError, load_devices
from firmware_config.hall import ProfileError, load_hall_profile
from firmware_config.paths import VAR_DIR
from firmware_config.settings import HallFiles

broker_app = typer.Typer(help="消息总线 Broker（Mosquitto）：生成配置并运行", no_args_is_help=True)

HallDir = Annotated[Path | None, typer.Option(help="大厅配置目录（hall.yaml + devices.yaml）；默认 HALLQ_HALL_DIR")]
SecretDir = Annotated[Path | None, typer.Option(help="密钥目录（账号密码、TLS 证书）；默认 HALLQ_SECRET_DIR")]
OutDir = Annotated[Path | None, typer.Option("--out", help="输出目录；默认 var/broker")]
Port = Annotated[int, typer.Option(min=1, max=65535, help="MQTT 端口")]
Bind = Annotated[str, typer.Option(help="MQTT 监听地址（明文，默认只在本机）")]
Tls = Annotated[bool, typer.Option("--tls/--no-tls", help="同时开启 TLS 监听（证书在密钥目录 tls/ 下生成）")]
TlsPort = Annotated[int, typer.Option(min=1, max=65535, help="TLS 端口")]
TlsBind = Annotated[str | None, typer.Option(help="TLS 监听地址（生产环境为大厅内网地址）；默认同 --bind")]
TlsName = Annotated[list[str] | None, typer.Option(help="证书中额外的主机名或 IP，可重复")]


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _render(
    hall_dir: Path | None,
    secret_dir: Path | None,
    out: Path | None,
    port: int,
    bind: str,
    tls: bool,
    tls_port: int,
    tls_bind: str | None,
    tls_name: list[str] | None,
    log_stderr: bool = False,
) -> BrokerFiles:
    if hall_dir is None or secret_dir is None:
        files = HallFiles()
        hall_dir = hall_dir or files.hall_dir
        secret_dir = secret_dir or files.secret_dir
    out = out or VAR_DIR / "broker"
    try:
        hall = load_hall_profile(hall_dir / "hall.yaml")
        devices = load_devices(hall_dir / "devices.yaml", hall)
        tls_files = None
        if tls:
            names = [
                *(tls_name or []),
                *([tls_bind] if tls_bind and tls_bind not in ("0.0.0.0", "::") else []),
            ]
            ips = ["127.0.0.1", *(n for n in names if _is_ip(n))]
            hosts = ["localhost", *(n for n in names if not _is_ip(n))]
            tls_files = provision_tls(
                secret_dir / "tls", hostnames=list(dict.fromkeys(hosts)), ips=list(dict.fromkeys(ips))
            )
        return render(
            hall,
            devices,
            secret_dir,
            out,
            port,
            tls=tls_files,
            tls_port=tls_port if tls else None,
            bind=bind,
            tls_bind=tls_bind,
            log_stderr=log_stderr,
            hall_dir=hall_dir,
        )
    except (ProfileError, DeviceProfileError, BrokerError, OSError, ValueError) as exc:
        raise _fail(f"无法生成 Broker 配置：{exc}") from exc


def _describe(files: BrokerFiles) -> None:
    typer.echo(f"配置：{files.conf}")
    typer.echo(f"账号与权限：{files.security}（由 hall.yaml 与 devices.yaml 生成，请勿手工修改）")
    typer.echo(f"日志：{files.log}")
    typer.echo(f"MQTT：{files.bind}:{files.port}")
    if files.tls and files.tls_port:
        typer.echo(f"MQTT over TLS：{files.tls_bind or files.bind}:{files.tls_port}（CA 证书 {files.tls.cafile}）")


@broker_app.command("render")
def render_command(
    hall_dir: HallDir = None,
    secret_dir: SecretDir = None,
    out: OutDir = None,
    port: Port = 1883,
    bind: Bind = "127.0.0.1",
    tls: Tls = False,
    tls_port: TlsPort = 8883,
    tls_bind: TlsBind = None,
    tls_name: TlsName = None,
) -> None:
    """Render mosquitto.conf and the accounts/ACL file from the hall and device profiles."""
    files = _render(hall_dir, secret_dir, out, port, bind, tls, tls_port, tls_bind, tls_name)
    typer.secho("Broker 配置已生成。", fg=typer.colors.GREEN)
    _describe(files)


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@broker_app.command("run")
def run_command(
    hall_dir: HallDir = None,
    secret_dir: SecretDir = None,
    out: OutDir = None,
    port: Port = 1883,
    bind: Bind = "127.0.0.1",
    tls: Tls = False,
    tls_port: TlsPort = 8883,
    tls_bind: TlsBind = None,
    tls_name: TlsName = None,
) -> None:
    """Render the configuration, then run mosquitto in the foreground until Ctrl+C or SIGTERM."""
    files = _render(hall_dir, secret_dir, out, port, bind, tls, tls_port, tls_bind, tls_name, log_stderr=True)
    process = BrokerProcess(files, inherit_output=True)
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        process.start()
        _describe(files)
        typer.secho("Broker 已启动，按 Ctrl+C 停止。", fg=typer.colors.GREEN)
        code = process.wait()
        if code != 0:
            raise _fail(f"mosquitto 意外退出（退出码 {code}），日志：{files.log}")
    except BrokerError as exc:
        raise _fail(str(exc)) from exc
    except KeyboardInterrupt:
        pass
    finally:
        process.stop()
        signal.signal(signal.SIGTERM, previous)
    typer.echo("Broker 已停止。")
