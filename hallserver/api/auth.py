"""Login for people (staff, chiefs, managers, admins); devices use tokens issued by `hallq user device-token`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import Field

from hallserver.api.deps import Auth, HallDep, bearer
from hallserver.api.schemas import Body
from hallserver.services import auth

router = APIRouter(prefix="/auth", tags=["登录 auth"])


class LoginIn(Body):
    """Staff id and password."""

    username: str = Field(min_length=2, max_length=32)
    password: str = Field(min_length=1, max_length=128)


def _me(p: auth.Principal) -> dict[str, Any]:
    return {
        "username": p.username,
        "role": p.role,
        "display_name": p.display_name,
        "department": p.department,
        "windows": sorted(p.windows),
        "all_windows": p.everything,
    }


@router.post("/login", summary="工作人员登录，返回令牌")
def login(body: LoginIn, hall: HallDep) -> dict[str, Any]:
    """A bearer token valid for 12 hours."""
    with hall.tx() as s:
        token, principal = auth.login(s, hall.ctx, body.username, body.password)
    return {"token": token, "token_type": "bearer", "expires_in_h": auth.SESSION_HOURS, "user": _me(principal)}


@router.get("/me", summary="当前登录的账号")
def me(principal: Auth) -> dict[str, Any]:
    """Who the token belongs to and which windows it may act on."""
    return _me(principal)


@router.post("/logout", summary="退出登录")
def logout(
    principal: Auth, hall: HallDep, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> dict[str, str]:
    """Revoke the token the request came with."""
    assert credentials is not None  # `principal` already required it
    with hall.tx() as s:
        auth.logout(s, credentials.credentials)
    return {"message": f"{principal.display_name}已退出登录"}
