"""Who calls the city API for H3's routes (同源发布, cross-hall progress): a hall with its API token
(`city.hall_tokens`), or a city user with a login token. The caller comes from the token, never the request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from city import hall_tokens
from city.api.deps import token_of

bearer = HTTPBearer(auto_error=False, description="大厅接口令牌（<大厅编码>.<密钥>）或市级登录令牌")


@dataclass(frozen=True)
class Caller:
    """A hall (name = its code) or a city user (name = username, role admin | viewer)."""

    kind: str
    name: str
    role: str = "hall"


def error(status: int, code: str, message: str, data: dict[str, Any] | None = None) -> JSONResponse:
    """The API's one error envelope: {"error": {"code", "message", "data"}}."""
    return JSONResponse({"error": {"code": code, "message": message, "data": data or {}}}, status_code=status)


def city_engine(request: Request) -> Engine:
    """The city database engine the app was made with."""
    engine: Engine = request.app.state.engine
    return engine


def _user(request: Request, token: str) -> Caller | None:
    """A city login token → the user, through the app's login check (`create_city_app` sets it)."""
    verify = getattr(request.app.state, "verify_login", None)
    found = verify(token) if verify is not None else None
    return Caller("user", found[0], found[1]) if found else None


def _caller(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Caller:
    token = token_of(request, credentials) or ""  # the header, else the console's login cookie
    if not token:
        raise HTTPException(401, "请提供大厅接口令牌或登录令牌", headers={"WWW-Authenticate": "Bearer"})
    code = hall_tokens.verify(city_engine(request), token)
    if code is not None:
        return Caller("hall", code)
    user = _user(request, token)
    if user is None:
        raise HTTPException(401, "令牌无效或已过期", headers={"WWW-Authenticate": "Bearer"})
    return user


def _admin(caller: Caller = Depends(_caller)) -> Caller:
    if caller.kind != "user" or caller.role != "admin":
        raise HTTPException(403, "只有市级管理员可以发布")
    return caller


def _hall(caller: Caller = Depends(_caller)) -> Caller:
    if caller.kind != "hall":
        raise HTTPException(403, "此接口只供大厅服务器调用")
    return caller


HallOrUser = Annotated[Caller, Depends(_caller)]
CityAdmin = Annotated[Caller, Depends(_admin)]
HallCaller = Annotated[Caller, Depends(_hall)]
