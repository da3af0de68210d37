"""The city API and console: `create_city_app()`. Routers are listed in ROUTERS ("module:attribute",
mounted under /api/v1); other parts of the city add theirs here (H3: publishing, cross-hall progress)."""

from __future__ import annotations

import importlib
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse

from city import auth as city_auth  # not `auth`: importing city.api.auth rebinds that name
from city.api.deps import City
from city.db import make_engine
from city.settings import CitySettings
from hallcore.clock import Clock, SystemClock

API_PREFIX = "/api/v1"
ROUTERS: list[str] = [
    "city.api.auth:router",
    "city.api.views:router",
    "city.api.publishing:router",  # H3: 同源发布 (catalog and calendar versions)
    "city.api.progress:router",  # H3: cross-hall progress for hall servers
]
CODES = {400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict", 422: "invalid"}


def _router(path: str) -> Any:
    module, attribute = path.split(":")
    return getattr(importlib.import_module(module), attribute)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": CODES.get(status, "error"), "message": message, "data": {}}}
    return JSONResponse(body, status_code=status, headers=headers)


def create_city_app(settings: CitySettings, clock: Clock | None = None, **state: Any) -> FastAPI:
    """The city's FastAPI app: REST under /api/v1, the console under /console/. `state` sets extra
    app.state attributes (e.g. H3's `publish_notify`)."""
    from city.console import install as install_console

    engine = make_engine(settings.database_url)
    clock = clock or SystemClock()
    app = FastAPI(
        title="hallq 城市政务服务监管平台",
        version="1",
        description="各大厅实时状态、跨大厅告警、统计报表、超期清单与同源发布",
    )
    app.state.city = City(engine, clock, settings)
    app.state.engine = engine  # H3's routes read these two
    app.state.clock = clock

    def verify_login(token: str) -> tuple[str, str] | None:
        try:
            user = city_auth.authenticate(engine, token, clock.now())
        except city_auth.AuthError:
            return None
        return user.username, user.role

    app.state.verify_login = verify_login
    for key, value in state.items():
        setattr(app.state, key, value)

    @app.exception_handler(HTTPException)
    async def _http_error(_r: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_r: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return _error(422, f"请求参数有误：{where or '请求'}（{first.get('msg', '格式不正确')}）")

    for path in ROUTERS:
        app.include_router(_router(path), prefix=API_PREFIX)
    install_console(app)
    app.add_api_route("/", lambda: RedirectResponse("/console/", 307), methods=["GET"], include_in_schema=False)
    app.router.add_event_handler("shutdown", engine.dispose)
    return app
