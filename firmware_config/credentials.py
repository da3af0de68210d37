"""Broker credentials: one account per device (username = device id) and one for the hall server.
Passwords are generated once and kept in 0600 files under the secret directory."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from firmware_config.devices import DeviceSet

SERVER_USERNAME = "hallserver"


@dataclass(frozen=True)
class Account:
    """A broker login."""

    username: str
    password: str


def _password(secret_dir: Path, username: str) -> str:
    folder = secret_dir / "broker"
    path = folder / f"{username}.password"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    password = secrets.token_urlsafe(24)
    path.write_text(password, encoding="ascii")
    path.chmod(0o600)
    return password


def server_account(secret_dir: Path) -> Account:
    """The hall server's broker login (created on first use)."""
    return Account(SERVER_USERNAME, _password(secret_dir, SERVER_USERNAME))


def device_account(secret_dir: Path, device_id: str) -> Account:
    """A device's broker login (created on first use)."""
    if device_id == SERVER_USERNAME:
        raise ValueError(f"{SERVER_USERNAME} is reserved for the hall server")
    return Account(device_id, _password(secret_dir, device_id))


def all_accounts(secret_dir: Path, devices: DeviceSet) -> list[Account]:
    """The server's and every device's login, creating missing ones."""
    return [server_account(secret_dir), *(device_account(secret_dir, d.id) for d in devices.devices)]
