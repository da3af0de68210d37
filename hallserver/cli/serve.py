"""`hallq run` (the demo hall: broker, server, floor devices) and `hallq serve` (the hall server alone)."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Generator, Iterator, Mapping
from contextlib import contextmanager
from types import FrameType
from typing import Annotated

import typer

from firmware_config.devices import DeviceProfileError, load_devices
from firmware_config.hall import ProfileError, load_hall_profile
from hallcore.catalog.loader import CatalogError
from hallcore.clock import anchor_demo_clock
from hallserver.services.context import HallContext
from hallserver.settings import PROJECT_ROOT, Settings


def _settings() -> Settings:
    return Settings()


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


class _Stopped(BaseException):
    """A stop signal arrived while `hallq run` was starting or stopping its children."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


# What stops `hallq run`: Ctrl-C, systemd and container runtimes (SIGTERM), a closed terminal (SIGHUP).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextmanager
def _stop_signals_raise() -> Iterator[None]:
    """Turn every stop signal into `_Stopped` (Python's default for SIGTERM and SIGHUP ends the process at
    once, leaving its children behind); the server replaces this with a graceful stop while it serves."""

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise _Stopped(signum)

    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def _stop_signals_ignored() -> Iterator[None]:
    """While the children are being stopped, a second signal must not interrupt their clean-up."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _anchored(settings: Settings) -> Settings:
    """Settings whose demo clock (if any) goes on from its saved anchor: see `anchor_demo_clock`."""
    if settings.clock_start is None or settings.clock_set_at is not None:
        return settings
    anchor = anchor_demo_clock(settings.clock_start, settings.clock_anchor_file)
    return settings.model_copy(update={"clock_set_at": anchor.set_at})


def device_env(settings: Settings, base: Mapping[str, str], public_url: str) -> dict[str, str]:
    """The environment of the floor devices `hallq run` starts: its broker, its URL and its hall clock (so a
    kiosk never says 已下班 while the server is open)."""
    env = dict(base)
    env.pop("HALLQ_CLOCK_SET_AT", None)
    env.pop("HALLQ_CLOCK_START", None)
    if settings.broker_host:
        env.update(HALLQ_BROKER_HOST=settings.broker_host, HALLQ_BROKER_PORT=str(settings.broker_port))
    env.setdefault("HALLQ_PUBLIC_URL", public_url)
    if settings.clock_start is not None:
        env["HALLQ_CLOCK_START"] = settings.clock_start.isoformat()
        if settings.clock_set_at is not None:
            env["HALLQ_CLOCK_SET_AT"] = settings.clock_set_at.isoformat()
    return env


def run(
    host: Annotated[str | None, typer.Option(help="Bind address of the server")] = None,
    port: Annotated[int | None, typer.Option(help="Port of the server")] = None,
    floor: Annotated[bool, typer.Option("--devices/--no-devices", help="Also start the demo floor devices")] = True,
) -> None:
    """Run the demo hall: migrate the database, start the hall's broker, serve with the bus gateway, and start
    the floor devices (kiosk with simulated ID reader and camera, displays, evaluator, simulated printers).

    Every way of stopping it (Ctrl-C, SIGTERM, SIGHUP, the server ending) stops the broker and the devices;
    if it is killed outright, a small watcher process stops them."""
    from broker.mosquitto import BrokerError, BrokerProcess, render
    from hallserver.db import upgrade
    from hallserver.demo import DEMO_DEVICES, DeviceSupervisor, Reaper, banner, has_screen, laid_out, screen_size

    settings = _anchored(_settings())
    broker: BrokerProcess | None = None
    supervisor: DeviceSupervisor | None = None
    reaper: Reaper | None = None
    try:
        with _stop_signals_raise():
            try:
                reaper = Reaper()
                upgrade(settings.database_url)
                try:
                    profile = load_hall_profile(settings.hall_dir / "hall.yaml")
                    devices = load_devices(settings.hall_dir / "devices.yaml", profile)
                    files = render(
                        profile,
                        devices,
                        settings.secret_dir,
                        settings.broker_dir,
                        port=settings.broker_port,
                        hall_dir=settings.hall_dir,  # the city bridge's TLS files are named relative to it
                    )
                    broker = BrokerProcess(files)
                    broker.start()
                except (ProfileError, DeviceProfileError, BrokerError, OSError) as exc:
                    raise _fail(f"无法启动消息代理：{exc}") from exc
                if broker.pid is not None:
                    reaper.watch(broker.pid)
                typer.echo(f"消息代理已启动：mqtt://{broker.host}:{broker.port}（账号与权限由大厅配置生成）")
                settings = settings.model_copy(update={"broker_host": broker.host, "broker_port": broker.port})
                if floor:
                    bind = host or settings.host
                    local = "127.0.0.1" if bind in ("0.0.0.0", "::") else bind
                    env = device_env(settings, os.environ, f"http://{local}:{port or settings.port}")
                    log_dir = PROJECT_ROOT / "var" / "demo"
                    screen = has_screen()
                    demo_devices = laid_out(DEMO_DEVICES, screen_size()) if screen else DEMO_DEVICES
                    supervisor = DeviceSupervisor(demo_devices, log_dir, env, on_spawn=reaper.watch).start()
                    typer.echo(banner(demo_devices, log_dir, screen))
                _serve(settings, host, port, demo=True)
            finally:
                with _stop_signals_ignored():
                    if supervisor is not None:
                        supervisor.stop()
                    if broker is not None:
                        broker.stop()
                    if reaper is not None:
                        reaper.close()
    except _Stopped:
        pass
    typer.echo("hallq 已停止：消息代理与演示设备均已关闭")


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
) -> None:
    """Run the hall server (REST API, and the bus gateway when HALLQ_BROKER_HOST is set)."""
    _serve(_settings(), host, port)


def _serve(settings: Settings, host: str | None, port: int | None, demo: bool = False) -> None:
    """Serve until a stop signal (Ctrl-C, SIGTERM, SIGHUP), then shut down gracefully and return. `demo`
    (`hallq run`): in the repository's demo hall, give the demo logins their password first."""
    import uvicorn

    from hallserver.app import NotMigrated, create_app
    from hallserver.demo_accounts import banner_lines, ensure_demo_accounts

    class Server(uvicorn.Server):
        # uvicorn re-raises the stop signal after shutting down, which kills the process before `hallq run`
        # can stop its children (SIGTERM's default action), and it ignores SIGHUP.
        @contextmanager
        def capture_signals(self) -> Generator[None, None, None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    bind_host, bind_port = host or settings.host, port or settings.port
    settings = _anchored(settings).model_copy(update={"host": bind_host, "port": bind_port})
    try:
        application = create_app(settings, settings.hall_clock())
    except (ProfileError, CatalogError, NotMigrated, DeviceProfileError) as exc:
        raise _fail(str(exc)) from exc
    ctx = application.state.hall.ctx
    hall = ctx.profile.hall
    accounts = ensure_demo_accounts(application.state.hall.engine, ctx, settings.hall_dir) if demo else ()
    bus = f"mqtt://{settings.broker_host}:{settings.broker_port}" if settings.broker_host else "未启用"
    base = f"http://{_browser_host(bind_host)}:{bind_port}"
    typer.echo(
        f"\nhallq 大厅服务已启动：{hall.name}\n"
        f"{banner_lines(base, accounts)}"
        f"  API 文档   http://{bind_host}:{bind_port}/docs\n"
        f"  大厅信息   http://{bind_host}:{bind_port}/api/v1/hall\n"
        f"  队列状态   http://{bind_host}:{bind_port}/api/v1/queue\n"
        f"  数据库     {settings.database_url}\n"
        f"  消息总线   {bus}\n"
        f"  {_open_status(ctx)}\n"
        f"{_clock_note(settings)}"
        "  按 Ctrl+C 停止\n"
    )
    server = Server(uvicorn.Config(application, host=bind_host, port=bind_port, log_level=settings.log_level))
    server.run()
    if not server.started and not server.should_exit:
        raise _fail("大厅服务未能启动，请查看上方日志")


def _browser_host(bind_host: str) -> str:
    """Where a browser on this machine reaches a server bound to `bind_host` (0.0.0.0 is not an address)."""
    return "127.0.0.1" if bind_host in ("0.0.0.0", "::", "") else bind_host


def _clock_note(settings: Settings) -> str:
    """Where the demo clock's anchor is kept, so a reader knows why the hall time is not the start given."""
    if settings.clock_start is None:
        return ""
    return (
        f"  演示时钟   自 {settings.clock_start.isoformat()} 起走时，重启后接着走"
        f"（换一个 HALLQ_CLOCK_START 即重新开始；记录在 {settings.clock_anchor_file}）\n"
    )


def _open_status(ctx: HallContext) -> str:
    now = ctx.now()
    if ctx.calendar.is_open(now):
        return f"大厅时间 {now:%Y-%m-%d %H:%M}，正在办公"
    reopen = ctx.calendar.next_opening(now)
    when = f"{reopen:%Y-%m-%d %H:%M}" if reopen else "（60天内无办公日）"
    return (
        f"大厅时间 {now:%Y-%m-%d %H:%M}，非办公时间，{when} 开始取号\n"
        f"  （演示可指定大厅时钟：HALLQ_CLOCK_START={reopen.isoformat() if reopen else '…'} make run）"
    )
