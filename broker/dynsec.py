"""Who may do what on the bus (PROTOCOL.md "Access control") as Mosquitto dynamic-security config: unlike
2.0.11's acl_file it checks SUBSCRIBE (SUBACK 135). Regenerated on every render; no client may change it."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any

from broker.topics import DEVICE_PUBLISHES, Topics
from firmware_config.credentials import SERVER_USERNAME, Account
from firmware_config.devices import ALLOWED_ACTIONS, DeviceSet

PBKDF2_ITERATIONS = 101  # mosquitto's default; passwords are 192-bit random tokens
GENERATED = "hallq broker render: generated from hall.yaml and devices.yaml. Do not edit, re-render."
DEFAULT_ACCESS = {
    "publishClientSend": False,
    "publishClientReceive": False,
    "subscribe": False,
    "unsubscribe": True,
}
SEND, RECEIVE, SUBSCRIBE = "publishClientSend", "publishClientReceive", "subscribePattern"


class AccountMismatch(ValueError):
    """The accounts given do not match the device set."""


def password_fields(password: str, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> dict[str, Any]:
    """Dynamic-security password fields: PBKDF2-HMAC-SHA512, 12-byte salt, 64-byte digest, base64."""
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, 64)
    return {"password": _b64(digest), "salt": _b64(salt), "iterations": iterations}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def acl_roles(hall_id: str, devices: DeviceSet) -> dict[str, list[tuple[str, str]]]:
    """Role name → [(acl type, topic filter)]: the server owns the hall, devices get PROTOCOL.md's minimum."""
    topics = Topics(hall_id)
    roles: dict[str, list[tuple[str, str]]] = {
        "server": [(kind, f"{topics.root}/#") for kind in (SEND, RECEIVE, SUBSCRIBE)],
        "public": [(kind, public) for public in topics.public() for kind in (RECEIVE, SUBSCRIBE)],
    }
    for device in devices.devices:
        own = [(RECEIVE, topics.device_all(device.id)), (SUBSCRIBE, topics.device_all(device.id))]
        own += [(SEND, topics.device(device.id, channel)) for channel in DEVICE_PUBLISHES]
        # v2: requests only under the device's own topic, only for the actions its kind is allowed.
        own += [(SEND, topics.request(device.id, action)) for action in ALLOWED_ACTIONS[device.type]]
        roles[f"device-{device.id}"] = own
    return roles


def client_roles(devices: DeviceSet) -> dict[str, list[str]]:
    """Username → its role names."""
    clients = {SERVER_USERNAME: ["server"]}
    for device in devices.devices:
        clients[device.id] = [f"device-{device.id}", "public"]
    return clients


def security_config(hall_id: str, devices: DeviceSet, accounts: list[Account]) -> dict[str, Any]:
    """The dynamic-security plugin's whole configuration (clients, roles, default access)."""
    names = {d.id: d.name for d in devices.devices} | {SERVER_USERNAME: "政务服务大厅服务器"}
    passwords = {a.username: a.password for a in accounts}
    roles = client_roles(devices)
    if set(passwords) != set(roles):
        raise AccountMismatch(f"账号与设备不一致：{sorted(set(passwords) ^ set(roles))}")
    return {
        "comment": GENERATED,
        "defaultACLAccess": DEFAULT_ACCESS,
        "clients": [
            {
                "username": user,
                "textName": names[user],
                # A device may only connect as itself, so no login can take over another device's session.
                **({} if user == SERVER_USERNAME else {"clientid": user}),
                **password_fields(passwords[user]),
                "roles": [{"rolename": r} for r in role_names],
            }
            for user, role_names in roles.items()
        ],
        "groups": [],
        "roles": [
            {"rolename": name, "acls": [{"acltype": k, "topic": t, "allow": True} for k, t in acls]}
            for name, acls in acl_roles(hall_id, devices).items()
        ],
    }
