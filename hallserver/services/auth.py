"""People log in with a password (scrypt), devices hold a long-lived token; both become a Principal that
says which windows it may act on. Tokens are stored only as their SHA-256."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session

from firmware_config.devices import DeviceSet, bound_window
from firmware_config.hall import AccessRole
from hallcore.errors import HallError
from hallcore.passwords import hash_password, token_hash, verify_password
from hallserver.models import AuthToken, Credential
from hallserver.services.context import HallContext

SESSION_HOURS = 12


class Unauthorized(HallError):
    """No valid credentials."""

    http_status = 401

    def __init__(self, message: str = "请先登录") -> None:
        super().__init__("unauthorized", message)


class Forbidden(HallError):
    """Valid credentials, not allowed to do this."""

    http_status = 403

    def __init__(self, message: str) -> None:
        super().__init__("forbidden", message)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a staff member (with a role) or a device."""

    username: str
    role: str  # staff | chief | manager | admin | device
    display_name: str
    department: str | None
    windows: frozenset[str]  # windows this principal may act on (all for manager/admin)
    everything: bool = False

    def may_act_on(self, window_id: str) -> bool:
        """Window staff only on their own windows; chiefs on their department's; managers everywhere."""
        return self.everything or window_id in self.windows

    def require(self, *roles: str) -> None:
        """Refuse unless the principal has one of these roles."""
        if self.role not in roles:
            raise Forbidden("您的账号无权进行此操作")

    def require_window(self, window_id: str) -> None:
        """Refuse unless the principal may act on this window."""
        if not self.may_act_on(window_id):
            raise Forbidden(f"您只能操作本人负责的窗口，无权操作 {window_id}")


def set_password(session: Session, ctx: HallContext, username: str, password: str) -> None:
    """Set a staff member's password (at least 8 characters, not all one kind)."""
    try:
        ctx.profile.staff_member(username)
    except KeyError:
        raise HallError("not_found", f"大厅配置中没有工作人员 {username}") from None
    if len(password) < 8 or password.isdigit() or password.isalpha():
        raise HallError("invalid", "密码至少8位，且须同时包含字母和数字")
    row = session.get(Credential, username) or Credential(username=username, password_hash="", updated_at=ctx.now())
    row.password_hash, row.updated_at = hash_password(password), ctx.now()
    session.add(row)


def login(session: Session, ctx: HallContext, username: str, password: str) -> tuple[str, Principal]:
    """A session token for a staff member with the right password."""
    row = session.get(Credential, username)
    if row is None or not verify_password(password, row.password_hash):
        raise Unauthorized("用户名或密码错误")
    token = secrets.token_urlsafe(32)
    now = ctx.now()
    session.add(
        AuthToken(
            token_hash=token_hash(token),
            username=username,
            kind="session",
            created_at=now,
            expires_at=now + timedelta(hours=SESSION_HOURS),
        )
    )
    return token, staff_principal(ctx, username)


def device_token(session: Session, ctx: HallContext, devices: DeviceSet, device_id: str) -> str:
    """A long-lived token for a device (REST access, e.g. the staff desk PC of a window)."""
    try:
        devices.get(device_id)
    except KeyError:
        raise HallError("not_found", f"设备配置中没有设备 {device_id}") from None
    token = secrets.token_urlsafe(32)
    session.add(AuthToken(token_hash=token_hash(token), username=device_id, kind="device", created_at=ctx.now()))
    return token


def logout(session: Session, token: str) -> None:
    """Revoke a token."""
    row = session.get(AuthToken, token_hash(token))
    if row is not None:
        row.revoked = True
        session.add(row)


def authenticate(session: Session, ctx: HallContext, devices: DeviceSet | None, token: str) -> Principal:
    """The principal behind a bearer token, or Unauthorized."""
    row = session.get(AuthToken, token_hash(token))
    if row is None or row.revoked or (row.expires_at is not None and row.expires_at <= ctx.now()):
        raise Unauthorized("登录已失效，请重新登录")
    if row.kind == "device":
        if devices is None:
            raise Unauthorized("设备令牌不可用")
        device = devices.get(row.username)
        window = bound_window(device)
        return Principal(device.id, "device", device.name, None, frozenset({window}) if window else frozenset())
    return staff_principal(ctx, row.username)


def staff_principal(ctx: HallContext, username: str) -> Principal:
    """A staff member as a principal, with the windows their role lets them act on."""
    member = ctx.profile.staff_member(username)
    windows = ctx.profile.windows
    if member.role == AccessRole.chief:
        dept = {s.id for s in ctx.profile.staff if s.department == member.department}
        mine = {w.id for w in windows if w.staff.a in dept or w.staff.b in dept}
    else:
        mine = {w.id for w in windows if username in (w.staff.a, w.staff.b)}
    return Principal(
        username=username,
        role=member.role.value,
        display_name=member.display_name,
        department=member.department,
        windows=frozenset(mine),
        everything=member.role in (AccessRole.manager, AccessRole.admin),
    )
