"""`hallq`: the one command-line entry point; later parts of the system add their subcommands here."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Generator, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from sqlmodel import Session

from broker.cli import broker_app
from firmware_config.cli import provision_command
from firmware_config.devices import DeviceProfileError, load_devices
from firmware_config.hall import ProfileError, load_hall_profile
from hallserver.catalog.loader import CatalogError, load_catalog
from hallserver.catalog.search import CatalogSearch
from hallserver.clock import anchor_demo_clock
from hallserver.services.calendar import HallCalendar, Holidays
from hallserver.services.context import HallContext, check_catalog_against_hall
from hallserver.settings import PROJECT_ROOT, Settings
from kiosk.display.cli import display_command
from kiosk.evaluator.cli import evaluator_command, keybox_simulator_command
from kiosk.idcard.cli import idcard_simulator_command
from kiosk.printer.cli import agent_command, printer_app
from kiosk.terminal.cli import kiosk_command

app = typer.Typer(help="hallq — 政务服务大厅排队、自助与评价系统", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations", no_args_is_help=True)
catalog_app = typer.Typer(help="Service catalog (事项目录)", no_args_is_help=True)
hall_app = typer.Typer(help="Hall profile (大厅配置)", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(catalog_app, name="catalog")
app.add_typer(hall_app, name="hall")
bus_app = typer.Typer(help="The hall bus contract (MQTT)", no_args_is_help=True)
user_app = typer.Typer(help="Staff passwords and device tokens (账号)", no_args_is_help=True)
app.add_typer(user_app, name="user")
keys_app = typer.Typer(help="Keys that encrypt personal data (密钥轮换)", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(bus_app, name="bus")
app.command("provision")(provision_command)
app.add_typer(broker_app, name="broker", help="The hall's Mosquitto broker (生成配置、启动)")
app.add_typer(printer_app, name="printer", help="ESC/POS printers: simulator, capture preview (打印机)")
app.command("printer-agent")(agent_command)
app.command("display")(display_command)
app.command("evaluator")(evaluator_command)
app.command("keybox-sim")(keybox_simulator_command)
app.command("idcard-sim")(idcard_simulator_command)
app.command("kiosk")(kiosk_command)

HallDir = Annotated[Path | None, typer.Option(help="Hall folder (hall.yaml + catalog/); default HALLQ_HALL_DIR")]


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


@app.command()
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
    from hallserver.demo import DEMO_DEVICES, DeviceSupervisor, Reaper, banner, has_screen

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
                        profile, devices, settings.secret_dir, settings.broker_dir, port=settings.broker_port
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
                    supervisor = DeviceSupervisor(DEMO_DEVICES, log_dir, env, on_spawn=reaper.watch).start()
                    typer.echo(banner(DEMO_DEVICES, log_dir, has_screen()))
                _serve(settings, host, port)
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


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
) -> None:
    """Run the hall server (REST API, and the bus gateway when HALLQ_BROKER_HOST is set)."""
    _serve(_settings(), host, port)


def _serve(settings: Settings, host: str | None, port: int | None) -> None:
    """Serve until a stop signal (Ctrl-C, SIGTERM, SIGHUP), then shut down gracefully and return."""
    import uvicorn

    from hallserver.app import NotMigrated, create_app

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
    bus = f"mqtt://{settings.broker_host}:{settings.broker_port}" if settings.broker_host else "未启用"
    typer.echo(
        f"\nhallq 大厅服务已启动：{hall.name}\n"
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


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply database migrations (idempotent)."""
    from hallserver.db import upgrade

    settings = _settings()
    upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}: {settings.database_url}")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Revert database migrations to a revision ('base' for empty)."""
    from hallserver.db import downgrade

    downgrade(_settings().database_url, revision)


@db_app.command("revision")
def db_revision(message: str) -> None:
    """Autogenerate a new migration from the models (developers)."""
    from alembic import command

    from hallserver.db import alembic_config

    command.revision(alembic_config(_settings().database_url), message=message, autogenerate=True)


def _hall_dir(hall_dir: Path | None) -> Path:
    return hall_dir or _settings().hall_dir


@catalog_app.command("check")
def catalog_check(hall_dir: HallDir = None) -> None:
    """Validate the catalog; every problem is listed with its file, item and field."""
    directory = _hall_dir(hall_dir) / "catalog"
    try:
        cat = load_catalog(directory)
    except CatalogError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"事项目录校验通过：{len(cat.domains)} 个领域，{len(cat.items)} 个事项，{len(cat.bundles)} 个一件事")
    for code, domain in cat.domains.items():
        n = sum(1 for c, d in cat.domain_of.items() if d == code)
        typer.echo(f"  {domain.name}（{code}）：{n}")
    typer.echo(f"版本 {cat.version}")


@catalog_app.command("search")
def catalog_search(query: str, hall_dir: HallDir = None, domain: str | None = None) -> None:
    """Search the catalog as a kiosk would (汉字、全拼或首字母)."""
    try:
        cat = load_catalog(_hall_dir(hall_dir) / "catalog")
    except CatalogError as exc:
        raise _fail(str(exc)) from exc
    hits = CatalogSearch(cat).search(query, domain=domain)
    if not hits:
        typer.echo("没有找到匹配的事项")
    for hit in hits:
        typer.echo(f"{hit.score:5d}  {hit.code}  {hit.name}  [{cat.domains[hit.domain].name}]")


@hall_app.command("check")
def hall_check(hall_dir: HallDir = None) -> None:
    """Validate hall.yaml, its catalog and the holiday calendar together."""
    directory = _hall_dir(hall_dir)
    settings = _settings()
    try:
        profile = load_hall_profile(directory / "hall.yaml")
        cat = load_catalog(directory / "catalog")
        check_catalog_against_hall(profile, cat)
        holidays = Holidays.load(settings.holidays_file)
    except (ProfileError, CatalogError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    cal = HallCalendar(profile.hours, holidays)
    typer.echo(
        f"{profile.hall.name}：{len(profile.windows)} 个窗口，{len(profile.groups)} 个队列，"
        f"{len(profile.staff)} 名工作人员，{len(cat.items)} 个事项"
    )
    for year in (date.today().year, date.today().year + 1):
        status = cal.covers(year)
        if status is None:
            typer.secho(f"警告：{year} 年节假日数据缺失，请更新 {settings.holidays_file}", fg=typer.colors.YELLOW)
        elif status == "provisional":
            typer.secho(f"提示：{year} 年节假日为推算数据，国务院通知发布后请更新", fg=typer.colors.YELLOW)


def _with_hall(job: Callable[[Session, HallContext], str]) -> None:
    """Run a job against the configured hall and database, print its message."""
    from hallserver.app import NotMigrated, build_context, check_migrated
    from hallserver.db import make_engine, session_scope
    from hallserver.services.errors import HallError

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        check_migrated(engine, settings.database_url)
        ctx = build_context(settings)
        with session_scope(engine) as session:
            message = job(session, ctx)
    except (NotMigrated, HallError, ProfileError, DeviceProfileError) as exc:
        raise _fail(str(exc)) from exc
    finally:
        engine.dispose()
    typer.echo(message)


@user_app.command("passwd")
def user_passwd(
    username: str,
    password: Annotated[str, typer.Option(prompt="新密码", hide_input=True, confirmation_prompt=True)],
) -> None:
    """Set a staff member's password (the username is the staff id in hall.yaml)."""
    from hallserver.services import auth

    def job(session: Session, ctx: HallContext) -> str:
        auth.set_password(session, ctx, username, password)
        return f"已设置 {ctx.profile.staff_member(username).display_name}（{username}）的密码"

    _with_hall(job)


@user_app.command("device-token")
def user_device_token(device: str) -> None:
    """Issue a REST token for a device of devices.yaml (printed once; only its hash is stored)."""
    from hallserver.services import auth

    def job(session: Session, ctx: HallContext) -> str:
        devices = load_devices(_settings().hall_dir / "devices.yaml", ctx.profile)
        return auth.device_token(session, ctx, devices, device)

    _with_hall(job)


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Put a new data key in front of the keyring (old keys still decrypt), then re-encrypt every identity."""
    from hallserver.services import keyring, people

    settings = _settings()
    if settings.data_keys:
        raise _fail("数据密钥来自环境变量 HALLQ_DATA_KEYS：请在那里轮换（新密钥放在最前）后运行 hallq keys reencrypt")
    ring = keyring.rotated(keyring.load_or_create_keyring(settings.secret_dir))
    keyring.save_keyring(settings.secret_dir, ring)
    _with_hall(lambda s, ctx: f"新密钥 {ring.current} 已启用，已重新加密 {people.reencrypt_all(s, ctx)} 条身份信息")


@keys_app.command("reencrypt")
def keys_reencrypt() -> None:
    """Re-encrypt every stored identity with the current data key."""
    from hallserver.services import people

    _with_hall(lambda s, ctx: f"已用当前密钥重新加密 {people.reencrypt_all(s, ctx)} 条身份信息")


@bus_app.command("schema")
def bus_schema(
    out: Annotated[Path, typer.Option(help="Folder for the JSON Schemas")] = Path("var/schema"),
) -> None:
    """Export the JSON Schema of every bus payload, for device makers."""
    from broker.messages import export_schemas

    written = export_schemas(out)
    typer.echo(f"已导出 {len(written)} 个消息格式（JSON Schema）到 {out}，索引见 {out / 'index.json'}")


if __name__ == "__main__":
    app()
