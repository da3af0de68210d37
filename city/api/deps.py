"""What the city API's routes share: the app's state (engine, clock, settings) and the logged-in user,
from a bearer token (API) or the console's cookie; the token decides who calls, never the request body."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from city import auth
from city.settings import CitySettings
from hallcore.clock import Clock

COOKIE = "city_token"
bearer = HTTPBearer(auto_error=False, description="市级账号登录令牌（POST /api/v1/auth/login）")


@dataclass(frozen=True)
class City:
    """The app's shared state."""

    engine: Engine
    clock: Clock
    settings: CitySettings


def city(request: Request) -> City:
    """The city state the app was made with."""
    state: City = request.app.state.city
    return state


CityDep = Annotated[City, Depends(city)]


def token_of(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    """The caller's token: the Authorization header, else the console's cookie."""
    if credentials is not None:
        return credentials.credentials
    return request.cookies.get(COOKIE)


def current_user(
    request: Request, c: CityDep, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> auth.CityUser:
    """The logged-in city user, or 401."""
    token = token_of(request, credentials)
    if not token:
        raise HTTPException(401, "请先登录", headers={"WWW-Authenticate": "Bearer"})
    try:
        return auth.authenticate(c.engine, token, c.clock.now())
    except auth.AuthError as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None


def admin_user(user: auth.CityUser = Depends(current_user)) -> auth.CityUser:
    """A city admin, or 403."""
    if not user.is_admin:
        raise HTTPException(403, "只有市级管理员可以进行此操作")
    return user


User = Annotated[auth.CityUser, Depends(current_user)]
Admin = Annotated[auth.CityUser, Depends(admin_user)]
