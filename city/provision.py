"""The city side of `hallq provision`: register each hall (its code, via `city.registry.assign_hall`), give its
bridge an account on the city broker, and write the hall's copy of what the city gives it.

The hall's copy goes to `<out>/<hall id>/`, laid out like the hall's secret folder (`city/bridge.password`,
`city/identity.key`, `city/api.token`, all 0600) plus `city.yaml`, the `city:` section and `hall.code` to put
in its hall.yaml. The city keeps the same bridge passwords under its own secret folder, from which
`city.broker.render_city` (Mosquitto) and `city.cluster.rabbitmq` (RabbitMQ) render their accounts.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
import yaml
from sqlalchemy import Engine

from city import hall_tokens
from city.broker import bridge_username, city_accounts
from city.registry import HallEntry, assign_hall, list_halls
from firmware_config.hall import HallProfile, load_hall_profile

IDENTITY_KEY = "identity.key"


@dataclass(frozen=True)
class CityEndpoint:
    """Where halls reach the city: its broker (for the bridge) and its HTTP API."""

    city: str
    broker_host: str
    broker_port: int = 8883
    tls: bool = True
    api_url: str | None = None


@dataclass(frozen=True)
class ProvisionedHall:
    """One hall as the city registered it, and where its copy was written."""

    hall_id: str
    entry: HallEntry
    folder: Path


def _write(path: Path, text: str, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), mode)
        handle.write(text)
    os.replace(tmp, path)


def city_identity_key(city_secret: Path) -> str:
    """The city's identity-hash key (hex), created once: every hall of the city hashes identities with it."""
    path = city_secret / IDENTITY_KEY
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    key = secrets.token_hex(32)
    _write(path, key + "\n")
    return key


def city_section(endpoint: CityEndpoint, entry: HallEntry) -> dict[str, object]:
    """The hall.yaml `city:` section for one hall (no secrets: those are files beside it)."""
    section: dict[str, object] = {
        "city": endpoint.city,
        "broker_host": endpoint.broker_host,
        "broker_port": endpoint.broker_port,
        "tls": endpoint.tls,
        "bridge_username": entry.bridge_account,
    }
    if endpoint.api_url:
        section["api_url"] = endpoint.api_url
    return section


def register(engine: Engine, hall: HallProfile, now: datetime) -> HallEntry:
    """The hall's entry in the city registry (its profile's code when it has one, else a new code)."""
    code = hall.hall.code
    return assign_hall(
        engine,
        name=hall.hall.name,
        level=hall.hall.level.value,
        region_code=hall.hall.region_code,
        now=now,
        hall_id=hall.hall.id,
        code=code,
        site_kind=hall.hall.site_kind.value,
        bridge_account=bridge_username(code) if code else None,
    )


def _token(engine: Engine, folder: Path, code: str, now: datetime) -> str:
    """The hall's API token: kept when the copy already holds a valid one, else issued anew."""
    path = folder / "city" / "api.token"
    if path.exists():
        token = path.read_text(encoding="ascii").strip()
        if hall_tokens.verify(engine, token) == code:
            return token
    return hall_tokens.issue(engine, code, now)


def provision_halls(
    engine: Engine,
    endpoint: CityEndpoint,
    hall_dirs: list[Path],
    city_secret: Path,
    out_dir: Path,
    now: datetime,
) -> list[ProvisionedHall]:
    """Register every hall and write its copy; the city broker's accounts are in city_secret afterwards."""
    profiles = [load_hall_profile(d / "hall.yaml") for d in hall_dirs]  # validate all before writing any
    hall_tokens.ensure_tables(engine)
    key = city_identity_key(city_secret)
    done = []
    for hall in profiles:
        entry = register(engine, hall, now)
        account = city_accounts(city_secret, [entry.bridge_account])[entry.bridge_account]
        folder = out_dir / hall.hall.id
        _write(folder / "city" / "bridge.password", account.password + "\n")
        _write(folder / "city" / IDENTITY_KEY, key + "\n")
        _write(folder / "city" / "api.token", _token(engine, folder, entry.code, now) + "\n")
        text = yaml.safe_dump(
            {"hall": {"code": entry.code}, "city": city_section(endpoint, entry)}, allow_unicode=True, sort_keys=False
        )
        _write(folder / "city.yaml", f"# 市级平台为 {hall.hall.name} 分配：把以下内容并入 hall.yaml\n{text}", 0o644)
        done.append(ProvisionedHall(hall.hall.id, entry, folder))
    return done


def registered_codes(engine: Engine) -> list[str]:
    """Every code the city assigned: the city broker gets a bridge account for each."""
    return [e.code for e in list_halls(engine)]


def install_copy(copy: Path, secret_dir: Path) -> None:
    """Put a hall's copy where its server and broker read it (`<secret_dir>/city/…`), e.g. on one machine."""
    for name in ("bridge.password", IDENTITY_KEY, "api.token"):
        _write(secret_dir / "city" / name, (copy / "city" / name).read_text(encoding="ascii"))


# --- `hallq city provision` ---------------------------------------------------------------------------------


def provision_command(
    hall_dirs: Annotated[list[Path], typer.Argument(help="大厅配置目录（hall.yaml），可多个")],
    out: Annotated[Path, typer.Option(help="输出目录：每个大厅一个子目录（密码、密钥、令牌、city.yaml）")] = Path(
        "var/city/provision"
    ),
    city_secret: Annotated[Path, typer.Option(help="市级密钥目录（各桥接账号密码、身份密钥）")] = Path(
        "var/city/secret"
    ),
    broker_host: Annotated[str, typer.Option(help="大厅桥接连接的市级消息代理地址")] = "127.0.0.1",
    broker_port: Annotated[int, typer.Option(min=1, max=65535)] = 8883,
    tls: Annotated[bool, typer.Option("--tls/--no-tls", help="桥接使用 TLS（正式部署必须启用）")] = True,
    api_url: Annotated[str | None, typer.Option(help="市级接口地址（大厅拉取目录、跨厅查询）")] = None,
    broker_dir: Annotated[Path | None, typer.Option(help="同时生成市级 Mosquitto 配置到此目录")] = None,
    broker_listen_port: Annotated[int, typer.Option(help="市级 Mosquitto 监听端口（配合 --broker-dir）")] = 1883,
) -> None:
    """Register each hall with the city, write its copy, and (with --broker-dir) the city broker's config
    (市级开通：登记大厅、生成桥接账号与大厅副本)."""
    from broker.mosquitto import BrokerError
    from city.broker import CityBrokerError, render_city
    from city.db import make_engine
    from city.registry import RegistryError
    from city.settings import CitySettings
    from firmware_config.hall import ProfileError

    settings = CitySettings()
    engine = make_engine(settings.database_url, pool_size=1, max_overflow=1)
    endpoint = CityEndpoint(settings.city_id, broker_host, broker_port, tls, api_url)
    try:
        done = provision_halls(engine, endpoint, hall_dirs, city_secret, out, datetime.now().astimezone())
        for hall in done:
            entry = hall.entry
            typer.echo(f"{entry.code}  {entry.name}（{hall.hall_id}）桥接账号 {entry.bridge_account} → {hall.folder}")
        if broker_dir is not None:
            files = render_city(settings.city_id, registered_codes(engine), city_secret, broker_dir, broker_listen_port)
            typer.echo(f"市级 Mosquitto 配置已写入 {files.conf}（账号与权限来自登记表）")
    except (ProfileError, RegistryError, CityBrokerError, BrokerError, OSError) as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo("把各大厅子目录中的 city/ 复制到该大厅的密钥目录，并把 city.yaml 的内容并入其 hall.yaml。")
