"""Login for city accounts: a bearer token valid for 12 hours."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field

from city import auth
from city.api.deps import CityDep, User, bearer, token_of

router = APIRouter(prefix="/auth", tags=["登录 auth"])


class LoginIn(BaseModel):
    """Username and password."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=2, max_length=32)
    password: str = Field(min_length=1, max_length=128)


def _me(user: auth.CityUser) -> dict[str, Any]:
    return {"username": user.username, "display_name": user.display_name, "role": user.role}


@router.post("/login", summary="市级账号登录，返回令牌")
def login(body: LoginIn, c: CityDep) -> dict[str, Any]:
    """A bearer token valid for 12 hours."""
    try:
        token, user = auth.login(c.engine, body.username, body.password, c.clock.now())
    except auth.AuthError as exc:
        raise HTTPException(401, str(exc)) from None
    return {"token": token, "token_type": "bearer", "expires_in_h": auth.SESSION_HOURS, "user": _me(user)}


@router.get("/me", summary="当前登录的账号")
def me(user: User) -> dict[str, Any]:
    """Who the token belongs to."""
    return _me(user)


@router.post("/logout", summary="退出登录")
def logout(
    request: Request, user: User, c: CityDep, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> dict[str, str]:
    """Revoke the token the request came with."""
    token = token_of(request, credentials)
    if token:
        auth.logout(c.engine, token)
    return {"message": f"{user.display_name}已退出登录"}
