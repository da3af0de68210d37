"""The hall server application factory: context, database, error mapping and routes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from broker.client import BusSettings
from firmware_config.credentials import server_account
from firmware_config.devices import DeviceProfileError, DeviceSet, load_devices
from firmware_config.hall import city_identity_key
from firmware_config.provision import BrokerEndpoint, device_config
from hallcore.clock import Clock
from hallcore.errors import HallError
from hallcore.identity import load_or_create_key
from hallserver import __version__, cityfeed, mobile
from hallserver.api import appointments as appointment_routes
from hallserver.api import assist as assist_routes
from hallserver.api import auth as auth_routes
from hallserver.api import case_desk, cases, catalog, evaluations, hall, reports, tickets, windows
from hallserver.api import complaints as complaint_routes
from hallserver.api import contacts as contact_routes
from hallserver.api import departments as department_routes
from hallserver.api import devices as device_routes
from hallserver.api import green_requests as green_routes
from hallserver.api import live as live_routes
from hallserver.api import pickup as pickup_routes
from hallserver.api import sync as sync_routes
from hallserver.api import whatif as whatif_routes
from hallserver.api.deps import Hall
from hallserver.api.limits import MAX_BODY_BYTES, BodySizeLimit, error_response
from hallserver.api.schemas import ErrorEnvelope
from hallserver.console import router as console
from hallserver.db import alembic_config, make_engine, session_scope
from hallserver.events import Publisher
from hallserver.gateway.gateway import Gateway
from hallserver.housekeeping import Housekeeper
from hallserver.notify.worker import Notifier
from hallserver.services import windows as window_service
from hallserver.services.context import HallContext, load_context
from hallserver.services.keyring import Keyring, load_or_create_keyring
from hallserver.settings import Settings
from hallserver.sync import runtime as city_link

log = logging.getLogger("hallq.server")


class NotMigrated(RuntimeError):
    """The database schema is behind the code."""


def check_migrated(engine: Engine, url: str) -> None:
    """Refuse to serve a database that is not at the latest migration."""
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current != head:
        raise NotMigrated(f"database is at revision {current}, code needs {head}: run `hallq db upgrade`")


def build_context(settings: Settings, clock: Clock | None = None) -> HallContext:
    """Load the hall named by the settings."""
    key = (
        settings.identity_key.get_secret_value().encode()
        if settings.identity_key
        else load_or_create_key(settings.secret_dir)
    )
    if clock is None:
        clock = settings.hall_clock()
    keyring = (
        Keyring.parse(settings.data_keys.get_secret_value())
        if settings.data_keys
        else load_or_create_keyring(settings.secret_dir)
    )
    ctx = load_context(settings.hall_dir, settings.holidays_file, clock, key, keyring)
    if ctx.profile.city is not None:
        ctx.city_key = city_identity_key(settings.secret_dir)
    return ctx


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    """A ready-to-serve app for one hall; the database must already be migrated."""
    settings = settings or Settings()
    ctx = build_context(settings, clock)
    engine = make_engine(settings.database_url)
    check_migrated(engine, settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with session_scope(engine) as s:
            window_service.sync_windows(s, ctx.profile, ctx.now())
        log.info("hall %s ready: %d windows", ctx.profile.hall.id, len(ctx.profile.windows))
        housekeeper = Housekeeper(ctx, engine, settings.housekeeping_s)
        housekeeper.start()  # expires earlier days' tickets now, sweeps no-shows every few minutes
        # drains the SMS/webhook outbox (HALLQ_NOTIFY_…); links in messages on the server's public URL
        notifier = Notifier.from_settings(ctx, engine, base_url=settings.base_url)
        notifier.start()
        gateway = app.state.hall.gateway
        if gateway is not None:
            gateway.start()
        # the city link: records captured with every commit; published when the hall has a `city:` section
        app.state.city_link = city_link.start(ctx, engine, settings, lambda: app.state.hall.gateway)
        cityfeed.start(app.state.hall, settings.hall_dir, settings.secret_dir)  # 同源发布: off without `city:`
        yield
        app.state.city_link.stop()
        cityfeed.stop(app.state.hall)
        if gateway is not None:
            gateway.stop()
        notifier.stop()
        housekeeper.stop()
        engine.dispose()

    app = FastAPI(
        title=f"hallq 大厅服务 — {ctx.profile.hall.name}",
        version=__version__,
        description="政务服务大厅排队叫号核心接口：事项目录与办事指南、办公日历、取号、窗口叫号与分配。",
        lifespan=lifespan,
    )
    devices_file = settings.hall_dir / "devices.yaml"
    devices = load_devices(devices_file, ctx.profile) if devices_file.exists() else None
    publisher = Publisher()  # every change goes out here: to the bus gateway and the live floor
    gateway = _gateway(settings, ctx, engine, devices, publisher)
    app.state.hall = Hall(ctx, engine, publisher, gateway, devices, base_url=settings.base_url)
    app.state.department_secrets = settings.secret_dir  # department webhook secrets and tokens
    app.state.hall_file = settings.hall_dir / "hall.yaml"  # overflow rules are written back to it
    api = APIRouter(
        prefix="/api/v1",
        responses={status: {"model": ErrorEnvelope} for status in (400, 404, 409, 413, 422, 503)},
    )
    for module in (
        catalog,
        hall,
        tickets,
        windows,
        cases,
        case_desk,
        department_routes,
        evaluations,
        reports,
        device_routes,
        auth_routes,
        appointment_routes,
        assist_routes,
        green_routes,  # 绿色通道 staff confirmation
        pickup_routes,
        live_routes,
        contact_routes,
        whatif_routes,
        complaint_routes,  # complaints and 办不成事
        sync_routes,  # the city link's status
    ):
        api.include_router(module.router)
    api.include_router(device_routes.notices)
    app.include_router(api)
    console.install(app)  # the web console under /console/
    app.include_router(mobile.router)  # the phone pages under /m/ (QR codes, rating links)
    _install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)  # counts bytes as they arrive, chunked or not
    return app


def _gateway(
    settings: Settings, ctx: HallContext, engine: Engine, devices: DeviceSet | None, publisher: Publisher
) -> Gateway | None:
    """The bus gateway when a broker is configured; the server also runs without one."""
    if settings.broker_host is None:
        return None
    if devices is None:
        raise DeviceProfileError(f"{settings.hall_dir / 'devices.yaml'}: 启用消息总线需要设备配置")
    account = server_account(settings.secret_dir)
    bus = BusSettings(
        hall=ctx.profile.hall.id,
        client_id=f"{account.username}-{ctx.profile.hall.id}",
        username=account.username,
        password=account.password,
        host=settings.broker_host,
        port=settings.broker_port,
        ca_file=settings.broker_ca_file,
        timezone=ctx.profile.hours.timezone,
    )
    endpoint = BrokerEndpoint(settings.broker_host, settings.broker_port, tls=settings.broker_ca_file is not None)
    config = lambda d: device_config(ctx.profile, d, endpoint)  # noqa: E731
    return Gateway(ctx, engine, devices, bus, settings.base_url, config, publisher)


_error = error_response

# Errors Starlette raises itself (unknown route, wrong method, unparsable body), in the API's envelope.
_HTTP_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid", "请求格式不正确，无法解析"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "没有权限进行此操作"),
    404: ("not_found", "请求的地址不存在"),
    405: ("method_not_allowed", "该地址不支持此请求方法"),
    406: ("not_acceptable", "无法提供所要求的响应格式"),
    413: ("too_large", "请求内容过大"),
    415: ("unsupported_media_type", "不支持的请求内容类型"),
}


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HallError)
    async def _hall_error(_: Request, exc: HallError) -> JSONResponse:
        return _error(exc.http_status, exc.code, exc.message, exc.data)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message = _HTTP_ERRORS.get(exc.status_code, ("http_error", "请求无法处理"))
        data: dict[str, Any] = {}
        if exc.status_code == 405:
            message = f"该地址不支持 {request.method} 请求"
            data["allowed"] = [m.strip() for m in (exc.headers or {}).get("Allow", "").split(",") if m.strip()]
        response = _error(exc.status_code, code, message, data)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(OverflowError)
    async def _too_wide(_: Request, exc: OverflowError) -> JSONResponse:
        # The last line behind the 64-bit bounds on every parameter: a number the database cannot hold
        # is bad input, never a server error.
        log.warning("integer out of range in a request: %s", exc)
        return _error(422, "invalid", "请求参数不正确：数值超出范围", {"fields": []})

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e["type"] == "json_invalid" for e in errors):  # its loc is a character offset, not a field
            return _error(422, "invalid", "请求参数不正确：请求内容不是有效的JSON", {"fields": []})
        fields = [".".join(str(p) for p in e["loc"] if p != "body") for e in errors]
        named = [f for f in fields if f]
        message = f"请求参数不正确：{', '.join(named)}" if named else "请求参数不正确：请求内容应为JSON对象"
        return _error(422, "invalid", message, {"fields": named})

    @app.exception_handler(OperationalError)
    async def _db_busy(_: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable: %s", exc.orig)
        return _error(503, "unavailable", "系统繁忙，请稍后重试")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return _error(500, "unavailable", "系统暂时无法处理，请稍后重试或联系工作人员")
