"""Demo logins for the staff console, made by `hallq run` in the bundled demo hall only.

A newcomer who runs `make run` must be able to log in without finding `hallq user passwd` first. The accounts
are the demo hall's own staff ids, one per role, and their password is printed in the banner and the README.
They are made only when the server serves the demo hall folder shipped in the repository
(`firmware_config/halls/demo`) and the hall's id is `demo`: a production hall (another folder, another id) never
gets a known password, and `hallq serve` never makes any."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from firmware_config.hall import HALLS_DIR
from hallserver.db import session_scope
from hallserver.services import auth
from hallserver.services.context import HallContext

DEMO_HALL_DIR = HALLS_DIR / "demo"
DEMO_HALL_ID = "demo"
DEMO_PASSWORD = "demo1234"  # letters and digits, as auth.set_password demands; the demo hall only


@dataclass(frozen=True)
class DemoAccount:
    """One demo login: the staff id (username), what the role may do, and where to start."""

    username: str
    role: str
    what: str
    page: str


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("s01", "staff", "1号窗口 A角：叫号、办结、打印凭证", "/console/staff"),
    DemoAccount("s05", "chief", "市公安局首席代表：本部门窗口、差评整改、报表", "/console/floor"),
    DemoAccount("m01", "manager", "大厅值班长：大厅监控、调度窗口、报表", "/console/floor"),
    DemoAccount("a01", "admin", "系统管理员：全部页面", "/console/floor"),
)


def is_demo_hall(hall_dir: Path, ctx: HallContext) -> bool:
    """Whether the server serves the repository's demo hall (its folder and its id), never a real one."""
    try:
        same_folder = hall_dir.resolve() == DEMO_HALL_DIR.resolve()
    except OSError:
        return False
    return same_folder and ctx.profile.hall.id == DEMO_HALL_ID


def ensure_demo_accounts(engine: Engine, ctx: HallContext, hall_dir: Path) -> tuple[DemoAccount, ...]:
    """Give the demo accounts the demo password (again at every start, so the banner is always right);
    nothing, and an empty tuple, for any hall that is not the demo hall."""
    if not is_demo_hall(hall_dir, ctx):
        return ()
    made = []
    with session_scope(engine) as s:
        for account in DEMO_ACCOUNTS:
            try:
                member = ctx.profile.staff_member(account.username)
            except KeyError:  # someone edited the demo hall's staff: skip the login it no longer has
                continue
            if member.role != account.role:
                continue
            auth.set_password(s, ctx, account.username, DEMO_PASSWORD)
            made.append(account)
    return tuple(made)


def banner_lines(base_url: str, accounts: tuple[DemoAccount, ...]) -> str:
    """The banner's lines about the console and its demo logins (Chinese, for the person at the terminal)."""
    lines = [f"  工作台     {base_url}/console/ （浏览器打开；{base_url}/ 也会转到这里）"]
    if accounts:
        lines.append(f"  演示账号   密码均为 {DEMO_PASSWORD}（仅演示大厅；每次 hallq run 重置）")
        lines += [f"             {a.username:<4} {a.what} → {base_url}{a.page}" for a in accounts]
    else:
        lines.append("  登录账号   用 hallq user passwd <工作人员编号> 设置密码（hall.yaml 中的 staff id）")
    return "\n".join(lines) + "\n"
