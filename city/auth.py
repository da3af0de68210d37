"""City accounts: people log in with a password (scrypt) and get a 12-hour token, stored only as its SHA-256
(hallcore.passwords, shared with the hall server). Roles: admin (may register halls, publish) and viewer."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from city.db.schema import city_token, city_user
from hallcore.passwords import hash_password, token_hash, verify_password

SESSION_HOURS = 12
ROLES = ("admin", "viewer")


class AuthError(ValueError):
    """Login failed or an account cannot be set up; the message is for the person (Chinese)."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class CityUser:
    """Who is calling the city API or console."""

    username: str
    display_name: str
    role: str

    @property
    def is_admin(self) -> bool:
        """Admins may change the registry."""
        return self.role == "admin"


def set_user(engine: Engine, username: str, password: str, role: str, display_name: str, now: datetime) -> None:
    """Create a city account or reset its password and role."""
    if role not in ROLES:
        raise AuthError(f"角色“{role}”无效：可选 admin、viewer", 422)
    if not 2 <= len(username) <= 32 or not username.replace("-", "").replace("_", "").isalnum():
        raise AuthError("用户名应为2至32位字母、数字、下划线或连字符", 422)
    if len(password) < 8 or password.isdigit() or password.isalpha():
        raise AuthError("密码至少8位，且须同时包含字母和数字", 422)
    values = {"display_name": display_name or username, "role": role, "password_hash": hash_password(password)}
    stmt = pg_insert(city_user).values(username=username, created_at=now, **values)
    with engine.begin() as conn:
        conn.execute(stmt.on_conflict_do_update(index_elements=["username"], set_=values))


def login(engine: Engine, username: str, password: str, now: datetime) -> tuple[str, CityUser]:
    """A session token for the right password."""
    with engine.connect() as conn:
        row = conn.execute(select(city_user).where(city_user.c.username == username)).first()
    if row is None or not verify_password(password, row.password_hash):
        raise AuthError("用户名或密码错误")
    token = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(
            insert(city_token).values(
                token_hash=token_hash(token),
                username=username,
                created_at=now,
                expires_at=now + timedelta(hours=SESSION_HOURS),
                revoked=False,
            )
        )
    return token, CityUser(row.username, row.display_name, row.role)


def authenticate(engine: Engine, token: str, now: datetime) -> CityUser:
    """The user behind a token, or AuthError."""
    with engine.connect() as conn:
        row = conn.execute(
            select(city_user.c.username, city_user.c.display_name, city_user.c.role, city_token.c.expires_at)
            .join(city_token, city_token.c.username == city_user.c.username)
            .where(city_token.c.token_hash == token_hash(token), city_token.c.revoked.is_(False))
        ).first()
    if row is None or row.expires_at <= now:
        raise AuthError("登录已失效，请重新登录")
    return CityUser(row.username, row.display_name, row.role)


def logout(engine: Engine, token: str) -> None:
    """Revoke a token."""
    with engine.begin() as conn:
        conn.execute(update(city_token).where(city_token.c.token_hash == token_hash(token)).values(revoked=True))
