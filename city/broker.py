"""The city's Mosquitto (PROTOCOL.md "The city link"): accounts and ACL rendered from the city's hall registry,
never written by hand. One account per hall bridge, one for the ingest workers, one for the publisher.

A hall's bridge may write only `hall/{its code}/sync/up/#` and read only `hall/{its code}/sync/ack` and
`city/{city}/#`; the ingest reads every hall's records through the shared subscription
`$share/ingest/hall/+/sync/up/+` and writes the acks; the publisher writes `city/{city}/#`. The same table
feeds the RabbitMQ cluster's users and topic permissions (`city/cluster/rabbitmq.py`).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from broker.dynsec import DEFAULT_ACCESS, RECEIVE, SEND, SUBSCRIBE, password_fields
from broker.mosquitto import BrokerFiles, BrokerProcess, _write, conf_text, prepare_files
from broker.mosquitto import find_plugin as find_dynsec_plugin
from broker.tls import TlsFiles
from firmware_config.credentials import Account, device_account
from hallcore.sync import HALL_CODE

GENERATED = "hallq city broker: generated from the city's hall registry. Do not edit, re-render."
INGEST_USERNAME = "city-ingest"
PUBLISHER_USERNAME = "city-publisher"
ADMIN_USERNAME = "city-admin"  # the city's operator: suspends and resumes a hall's bridge at run time
CONTROL = "$CONTROL/dynamic-security/v1"
SHARE_GROUP = "ingest"
CITY_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,31}$")
# A city broker queues a whole day of a hall's records while the ingest is away; the hall's outbox resends
# anything dropped anyway, so these bound memory, not correctness.
CITY_LIMITS = {
    "max_queued_messages": "200000",
    "max_inflight_messages": "100",
    "persistent_client_expiration": "14d",
}


class CityBrokerError(ValueError):
    """The city broker cannot be rendered; the message says why, in Chinese."""


def bridge_username(code: str) -> str:
    """The city-broker login of a hall's bridge: `bridge-<hall code, lower case>` (as the registry names it)."""
    if not re.fullmatch(HALL_CODE, code):
        raise CityBrokerError(f"大厅代码无效：{code!r}（应为 4 位数字或大写字母）")
    return f"bridge-{code.lower()}"


def hall_of_bridge(username: str) -> str | None:
    """The hall code a bridge login belongs to, None for other accounts."""
    code = username[7:].upper()
    if username.startswith("bridge-") and re.fullmatch(HALL_CODE, code) and bridge_username(code) == username:
        return code
    return None


@dataclass(frozen=True)
class Grant:
    """What one account may do, as MQTT topic filters."""

    publish: tuple[str, ...]
    subscribe: tuple[str, ...]  # also what it may receive


def sync_up(code: str) -> str:
    """Filter of one hall's records on the city broker."""
    return f"hall/{code}/sync/up/#"


def city_grants(city: str, codes: Iterable[str]) -> dict[str, Grant]:
    """Username → what it may publish and subscribe to: the whole city broker ACL in one table."""
    if not CITY_ID.fullmatch(city):
        raise CityBrokerError(f"城市标识无效：{city!r}（小写字母、数字、下划线或连字符）")
    grants = {
        INGEST_USERNAME: Grant(
            publish=("hall/+/sync/ack",),
            subscribe=(f"$share/{SHARE_GROUP}/hall/+/sync/up/+", "hall/+/sync/up/+"),
        ),
        PUBLISHER_USERNAME: Grant(publish=(f"city/{city}/#",), subscribe=()),
        ADMIN_USERNAME: Grant(publish=(CONTROL,), subscribe=(f"{CONTROL}/response",)),
    }
    for code in sorted(set(codes)):
        grants[bridge_username(code)] = Grant(
            publish=(sync_up(code),),
            subscribe=(f"hall/{code}/sync/ack", f"city/{city}/#"),
        )
    return grants


def city_accounts(secret_dir: Path, usernames: Iterable[str]) -> dict[str, Account]:
    """Every login's password, generated once into `secret_dir/broker/<user>.password` (0600)."""
    return {user: device_account(secret_dir, user) for user in usernames}


def security_config(city: str, codes: Iterable[str], accounts: dict[str, Account]) -> dict[str, object]:
    """The dynamic-security plugin's configuration for the city broker: one role per account."""
    grants = city_grants(city, codes)
    missing = sorted(set(grants) - set(accounts))
    if missing:
        raise CityBrokerError(f"缺少这些账号的密码：{missing}")
    roles = []
    for user, grant in grants.items():
        acls = [(SEND, t) for t in grant.publish]
        acls += [(kind, t) for t in grant.subscribe for kind in (SUBSCRIBE, RECEIVE)]
        roles.append({"rolename": f"role-{user}", "acls": [{"acltype": k, "topic": t, "allow": True} for k, t in acls]})
    names = {INGEST_USERNAME: "市级汇聚入库", PUBLISHER_USERNAME: "市级同源发布", ADMIN_USERNAME: "市级运维"}
    return {
        "comment": GENERATED,
        "defaultACLAccess": DEFAULT_ACCESS,
        "clients": [
            {
                "username": user,
                "textName": names.get(user) or f"大厅 {hall_of_bridge(user)} 的桥接",
                **password_fields(accounts[user].password),
                "roles": [{"rolename": f"role-{user}"}],
            }
            for user in grants
        ],
        "groups": [],
        "roles": roles,
    }


def _city_conf(files: BrokerFiles) -> str:
    """The hall broker's conf with the city's larger queues (one conf writer for both: broker.mosquitto)."""
    lines = conf_text(files, find_dynsec_plugin()).replace("hallq broker render", "hallq city broker").splitlines()
    out = []
    for line in lines:
        key = line.split(" ", 1)[0]
        out.append(f"{key} {CITY_LIMITS[key]}" if key in CITY_LIMITS else line)
    return "\n".join(out) + "\n"


def render_city(
    city: str,
    codes: Iterable[str],
    secret_dir: Path,
    out_dir: Path,
    port: int,
    bind: str = "127.0.0.1",
    tls: TlsFiles | None = None,
    tls_port: int | None = None,
    tls_bind: str | None = None,
    persistence: bool = True,
) -> BrokerFiles:
    """Write the city broker's mosquitto.conf and dynamic-security.json into out_dir."""
    if (tls is None) != (tls_port is None):
        raise CityBrokerError("TLS 监听需要同时给出证书和端口")
    codes = sorted(set(codes))
    grants = city_grants(city, codes)
    accounts = city_accounts(secret_dir, grants)
    out_dir = out_dir.resolve()
    files, owner = prepare_files(out_dir, port, bind, tls, tls_port, tls_bind, persistence)
    security = security_config(city, codes, accounts)
    _write(files.security, json.dumps(security, ensure_ascii=False, indent=1) + "\n", 0o600, owner)
    _write(files.conf, _city_conf(files), 0o640, owner)
    if not files.log.exists():
        _write(files.log, "", 0o640, owner)
    return files


class CityBroker(BrokerProcess):
    """The city's Mosquitto subprocess, plus the logins tests and the demo need."""

    def __init__(self, city: str, codes: Iterable[str], secret_dir: Path, out_dir: Path, port: int, **kw: object):
        self.city = city
        self.codes = tuple(sorted(set(codes)))
        self.secret_dir = secret_dir
        super().__init__(render_city(city, self.codes, secret_dir, out_dir, port, **kw))  # type: ignore[arg-type]

    def account(self, username: str) -> Account:
        """A login of this broker (bridge-<code>, city-ingest, city-publisher)."""
        return device_account(self.secret_dir, username)

    def rerender(self, codes: Iterable[str]) -> None:
        """New registry: rewrite accounts and ACL; a restart applies them (sessions persist on disk)."""
        self.codes = tuple(sorted(set(codes)))
        self.files = render_city(
            self.city,
            self.codes,
            self.secret_dir,
            self.files.out_dir,
            self.files.port,
            bind=self.files.bind,
            tls=self.files.tls,
            tls_port=self.files.tls_port,
            tls_bind=self.files.tls_bind,
            persistence=self.files.data_dir is not None,
        )

    def suspend_hall(self, code: str) -> None:
        """Cut one hall's link: its bridge is disconnected and refused until resumed (dynamic security)."""
        set_bridge_enabled(self.host, self.port, self.account(ADMIN_USERNAME), bridge_username(code), False)

    def resume_hall(self, code: str) -> None:
        """Let a suspended hall's bridge log in again."""
        set_bridge_enabled(self.host, self.port, self.account(ADMIN_USERNAME), bridge_username(code), True)


def set_bridge_enabled(host: str, port: int, admin: Account, username: str, enabled: bool, timeout: float = 10) -> None:
    """Enable or disable one login on a running city Mosquitto (`disableClient` also disconnects it now)."""
    done = threading.Event()
    answer: dict[str, object] = {}
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.username_pw_set(admin.username, admin.password)

    def on_message(_c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        answer.update(json.loads(msg.payload)["responses"][0])
        done.set()

    def on_subscribe(c: mqtt.Client, *_: object) -> None:
        command = {"command": "enableClient" if enabled else "disableClient", "username": username}
        c.publish(CONTROL, json.dumps({"commands": [command]}), qos=1)

    client.on_message = on_message
    client.on_subscribe = on_subscribe
    client.on_connect = lambda c, *_: c.subscribe(f"{CONTROL}/response", qos=1)
    client.connect(host, port)
    client.loop_start()
    try:
        if not done.wait(timeout):
            raise CityBrokerError(f"市级消息代理未在 {timeout:g} 秒内答复账号 {username} 的启停命令")
        if answer.get("error"):
            raise CityBrokerError(f"市级消息代理拒绝启停账号 {username}：{answer['error']}")
    finally:
        client.disconnect()
        client.loop_stop()
