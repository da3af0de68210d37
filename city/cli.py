"""`hallq city …`: the city database (migrate), the ingest workers, the API and console (serve), the hall
registry (hall add/list), city accounts (user add) and rollups. Settings come from HALLQ_CITY_* variables."""

from __future__ import annotations

import functools
import importlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

import typer

from city.settings import CitySettings
from hallcore.clock import SystemClock

app = typer.Typer(help="城市层：汇聚入库、城市数据库、监管接口与控制台", no_args_is_help=True, rich_markup_mode=None)
hall_app = typer.Typer(help="大厅登记（分配大厅编码）", no_args_is_help=True, rich_markup_mode=None)
user_app = typer.Typer(help="市级账号", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(hall_app, name="hall")
app.add_typer(user_app, name="user")
# Other parts of the city add their command groups here ("module:attribute" of a Typer app, and its name).
EXTRA: list[tuple[str, str]] = [
    ("city.publishing_cli:publish_app", "publish"),  # H3: 同源发布 and hall API tokens
    ("city.platform.cli:platform_app", "platform"),  # H3: 好差评 data to the provincial platform
]


F = TypeVar("F", bound=Callable[..., Any])


def _friendly(command: F) -> F:
    """Database trouble becomes one clear Chinese line and exit code 1, not a traceback."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        from sqlalchemy.exc import OperationalError, ProgrammingError

        try:
            return command(*args, **kwargs)
        except OperationalError as exc:
            first = str(exc.orig or exc).splitlines()[0][:160]
            typer.echo(f"无法连接城市数据库：{first}。请检查 HALLQ_CITY_DATABASE_URL 以及数据库是否在运行", err=True)
            raise typer.Exit(1) from None
        except ProgrammingError as exc:
            if getattr(exc.orig, "sqlstate", None) != "42P01":  # undefined table
                raise
            typer.echo("城市数据库尚未初始化：请先运行 hallq city migrate", err=True)
            raise typer.Exit(1) from None

    return run  # type: ignore[return-value]


def _settings() -> CitySettings:
    try:
        return CitySettings()
    except ValueError as exc:
        typer.echo(f"城市配置有误（HALLQ_CITY_*）：{exc}", err=True)
        raise typer.Exit(2) from None


@contextmanager
def open_database(settings: CitySettings) -> Iterator[Any]:
    """An engine for one command, disposed when the command ends (no connection outlives it)."""
    from city.db import make_engine

    engine = make_engine(settings.database_url, pool_size=1, max_overflow=1)
    try:
        yield engine
    finally:
        engine.dispose()


def _now() -> datetime:
    return SystemClock().now()


@app.command()
@_friendly
def migrate(
    sql: Annotated[bool, typer.Option("--sql", help="只打印 SQL，不执行")] = False,
    months_ahead: Annotated[int, typer.Option(help="预先创建几个月的分区")] = 2,
) -> None:
    """Apply the city database's migrations and create the monthly partitions ahead."""
    from alembic import command

    from city.db import alembic_config, upgrade
    from city.partitions import Partitions

    settings = _settings()
    if sql:
        command.upgrade(alembic_config(settings.database_url), "head", sql=True)
        return
    upgrade(settings.database_url)
    with open_database(settings) as engine:
        created = Partitions(engine).ensure_ahead(_now().date(), behind=1, ahead=months_ahead)
    typer.echo(f"城市数据库已是最新版本；新建分区 {len(created)} 个")


@app.command()
def ingest(workers: Annotated[int, typer.Option("--workers", "-w", min=1, max=64, help="入库进程数")] = 2) -> None:
    """Run N ingest workers (competing consumers) and the rollup refresher until Ctrl-C / SIGTERM."""
    from city.ingest import Ingest

    settings = _settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    typer.echo(
        f"城市汇聚入库：{workers} 个进程，消息源 {settings.consumer} {settings.broker_host}:{settings.broker_port}"
    )
    Ingest(settings, workers).run()


@app.command()
def serve() -> None:
    """Serve the city API (/api/v1, /docs) and console (/console/)."""
    import uvicorn

    from city.api import create_city_app

    settings = _settings()
    typer.echo(f"城市监管控制台：http://{settings.host}:{settings.port}/console/")
    from city.publishing import notifier_from_env

    app = create_city_app(settings, publish_notify=notifier_from_env(settings))  # H3: the 同源发布 notice
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level)


@app.command()
@_friendly
def rollup(
    since: Annotated[str | None, typer.Option(help="从该日期（YYYY-MM-DD）起全部重算")] = None,
    every: Annotated[float, typer.Option(help="每隔多少秒刷新一次；0 = 只做一次")] = 0,
) -> None:
    """Refresh the daily rollups (the dirty days; or every day from --since)."""
    from city.rollups import rebuild, refresh_all

    first = None
    if since:
        try:
            first = date.fromisoformat(since)
        except ValueError:
            typer.echo("日期格式应为 YYYY-MM-DD", err=True)
            raise typer.Exit(2) from None
    with open_database(_settings()) as engine:
        if first is not None:
            typer.echo(f"已重算 {rebuild(engine, first)} 个大厅日")
            return
        stop = threading.Event()
        while True:
            typer.echo(f"已刷新 {refresh_all(engine)} 个大厅日")
            if every <= 0 or stop.wait(every):
                break


@hall_app.command("add")
@_friendly
def hall_add(
    name: Annotated[str, typer.Option(help="大厅名称")],
    level: Annotated[str, typer.Option(help="市 / 区 / 街道 / 社区（或大厅配置里的 区县级 等）")],
    region_code: Annotated[str, typer.Option(help="6位行政区划代码")],
    hall_id: Annotated[str | None, typer.Option(help="大厅配置中的 id（如 demo）")] = None,
    code: Annotated[str | None, typer.Option(help="指定4位编码；默认自动分配")] = None,
    parent_region: Annotated[str | None, typer.Option(help="上级行政区划代码")] = None,
    site_kind: Annotated[str, typer.Option(help="hall 或 self_service_point")] = "hall",
) -> None:
    """Register a hall (or a 24-hour point) and print its code."""
    from city.registry import RegistryError, assign_hall

    try:
        with open_database(_settings()) as engine:
            entry = assign_hall(
                engine,
                name=name,
                level=level,
                region_code=region_code,
                hall_id=hall_id,
                code=code,
                parent_region=parent_region,
                site_kind=site_kind,
                now=_now(),
            )
    except RegistryError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{entry.code}\t{entry.name}\t{entry.level}\t桥接账号 {entry.bridge_account}")


@hall_app.command("list")
@_friendly
def hall_list() -> None:
    """Every registered hall."""
    from city.registry import list_halls

    with open_database(_settings()) as engine:
        halls = list_halls(engine)
    for h in halls:
        typer.echo(f"{h.code}\t{h.name}\t{h.level}\t{h.region_code}\t{h.site_kind}\t{h.bridge_account}")


@user_app.command("add")
@_friendly
def user_add(
    username: str,
    role: Annotated[str, typer.Option(help="admin 或 viewer")] = "viewer",
    display_name: Annotated[str, typer.Option(help="显示名称")] = "",
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)] = "",
) -> None:
    """Create a city account (or reset its password and role)."""
    from city.auth import AuthError, set_user

    try:
        with open_database(_settings()) as engine:
            set_user(engine, username, password, role, display_name, _now())
    except AuthError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"账号 {username}（{role}）已保存")


for _module, _name in EXTRA:
    module, attribute = _module.split(":")
    app.add_typer(getattr(importlib.import_module(module), attribute), name=_name)
# H4: `hallq city provision HALL_DIR…` registers halls, their bridge accounts and writes the halls' copies.
app.command("provision")(importlib.import_module("city.provision").provision_command)
