"""`hallq db|catalog|hall|user|keys|bus`: the hall server's administration commands."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from firmware_config.devices import DeviceProfileError, load_devices
from firmware_config.hall import ProfileError, load_hall_profile
from hallcore.calendar import HallCalendar, Holidays
from hallcore.catalog.loader import CatalogError, load_catalog
from hallcore.catalog.search import CatalogSearch
from hallserver.services.context import HallContext, check_catalog_against_hall
from hallserver.settings import Settings

db_app = typer.Typer(help="Database migrations", no_args_is_help=True)
catalog_app = typer.Typer(help="Service catalog (事项目录)", no_args_is_help=True)
hall_app = typer.Typer(help="Hall profile (大厅配置)", no_args_is_help=True)
user_app = typer.Typer(help="Staff passwords and device tokens (账号)", no_args_is_help=True)
keys_app = typer.Typer(help="Keys that encrypt personal data (密钥轮换)", no_args_is_help=True)
bus_app = typer.Typer(help="The hall bus contract (MQTT)", no_args_is_help=True)


def _settings() -> Settings:
    return Settings()


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


HallDir = Annotated[Path | None, typer.Option(help="Hall folder (hall.yaml + catalog/); default HALLQ_HALL_DIR")]


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
    from hallcore.errors import HallError
    from hallserver.app import NotMigrated, build_context, check_migrated
    from hallserver.db import make_engine, session_scope

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
