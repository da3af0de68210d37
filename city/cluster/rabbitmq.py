"""A 3-node RabbitMQ 3.10 cluster on loopback for the city broker (Debian 12's `rabbitmq-server`, MQTT plugin).

Each node gets its own name, ports and RABBITMQ_MNESIA_BASE under one folder, all share an Erlang cookie, and
they form the cluster by themselves (classic-config peer discovery: the same effect as `join_cluster`, no
CLI round-trips). Users, vhost and topic permissions come from the same grant table as the city Mosquitto
(`city.broker.city_grants`), loaded as RabbitMQ definitions together with the ingest's durable **quorum**
queue bound to `amq.topic` with `hall.*.sync.up.*` — declared before any hall connects, so nothing
published while no consumer runs is dropped. RabbitMQ maps MQTT `/` to AMQP `.` in routing keys.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from city.broker import INGEST_USERNAME, city_accounts, city_grants, hall_of_bridge
from city.consumers.amqp import INGEST_BINDING, INGEST_QUEUE
from firmware_config.credentials import Account

SBIN = Path("/usr/lib/rabbitmq/bin")
INSTALL_HINT = "未找到 rabbitmq-server：请运行 make test-cluster（安装 Debian 的 rabbitmq-server 软件包）"
ADMIN_USERNAME = "city-admin"
# A shared 2-core machine: schedulers that spin while idle would steal CPU from everything else.
ERL_ARGS = "+sbwt none +sbwtdcpu none +sbwtdio none"


class ClusterError(RuntimeError):
    """The cluster could not be configured or started; the message says why."""


def find_rabbitmq() -> Path:
    """The rabbitmq-server script of Debian's package."""
    script = SBIN / "rabbitmq-server"
    if not script.exists():
        raise ClusterError(INSTALL_HINT)
    return script


def mqtt_to_amqp(pattern: str) -> str:
    """An MQTT topic filter as a RabbitMQ topic-permission regex over the AMQP routing key."""
    parts = []
    for level in pattern.split("/"):
        if level == "#":
            parts.append(r"(\..+)?")
            continue
        piece = "[^.]+" if level == "+" else re.escape(level)
        parts.append(("" if not parts else r"\.") + piece)
    return "^" + "".join(parts) + "$"


def routing_key(topic: str) -> str:
    """The AMQP routing key RabbitMQ's MQTT plugin uses for an MQTT topic."""
    return topic.replace("/", ".")


def password_hash(password: str) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt4 + sha256(salt4 + password))."""
    salt = secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode("utf-8")).digest()).decode("ascii")


def _either(patterns: Iterable[str]) -> str:
    regexes = [mqtt_to_amqp(p) for p in patterns if not p.startswith("$share/")]
    return "|".join(f"(?:{r})" for r in regexes) if regexes else "^$"


def definitions(city: str, codes: Iterable[str], accounts: dict[str, Account]) -> dict[str, Any]:
    """Users, permissions, topic permissions and the ingest queue, as RabbitMQ definitions JSON."""
    grants = city_grants(city, codes)
    users, permissions, topic_permissions = [], [], []
    for user, grant in {**grants, ADMIN_USERNAME: None}.items():
        users.append(
            {
                "name": user,
                "password_hash": password_hash(accounts[user].password),
                "hashing_algorithm": "rabbit_password_hashing_sha256",
                "tags": ["administrator"] if grant is None else [],
            }
        )
        if grant is None:
            permissions.append({"user": user, "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"})
            continue
        if user == INGEST_USERNAME:
            # AMQP: consume the ingest queue (declared below), publish acks to amq.topic.
            own = f"^(amq\\.topic|{re.escape(INGEST_QUEUE)})$"
            queue = f"^{re.escape(INGEST_QUEUE)}$"
            permissions.append({"user": user, "vhost": "/", "configure": queue, "write": own, "read": own})
        else:
            # MQTT: the plugin keeps each client's subscriptions in queues named after its client id.
            mine = f"^mqtt-subscription-{re.escape(user)}qos[01]$"
            both = f"^amq\\.topic$|{mine}"
            permissions.append({"user": user, "vhost": "/", "configure": mine, "write": both, "read": both})
        write, read = _either(grant.publish), _either(grant.subscribe)
        topic_permissions.append({"user": user, "vhost": "/", "exchange": "amq.topic", "write": write, "read": read})
    return {
        "rabbit_version": "3.10.8",
        "users": users,
        "vhosts": [{"name": "/"}],
        "permissions": permissions,
        "topic_permissions": topic_permissions,
        "queues": [
            {
                "name": INGEST_QUEUE,
                "vhost": "/",
                "durable": True,
                "auto_delete": False,
                "arguments": {"x-queue-type": "quorum"},
            }
        ],
        "exchanges": [],
        "bindings": [
            {
                "source": "amq.topic",
                "vhost": "/",
                "destination": INGEST_QUEUE,
                "destination_type": "queue",
                "routing_key": INGEST_BINDING,
                "arguments": {},
            }
        ],
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Node:
    """One node's name, ports and folder."""

    index: int
    name: str  # e.g. hallq-c1@localhost
    amqp_port: int
    mqtt_port: int
    dist_port: int
    base: Path


def node_conf(node: Node, peers: list[Node], definitions_file: Path) -> str:
    """rabbitmq.conf of one node (new-style sysctl format)."""
    lines = [
        "# hallq city cluster: generated, do not edit.",
        f"listeners.tcp.1 = 127.0.0.1:{node.amqp_port}",
        f"mqtt.listeners.tcp.1 = 127.0.0.1:{node.mqtt_port}",
        "mqtt.allow_anonymous = false",
        "mqtt.vhost = /",
        "mqtt.exchange = amq.topic",
        "mqtt.subscription_ttl = 1209600000",
        "mqtt.prefetch = 100",
        "loopback_users = none",
        "cluster_partition_handling = pause_minority",
        "cluster_formation.peer_discovery_backend = classic_config",
        *(f"cluster_formation.classic_config.nodes.{p.index} = {p.name}" for p in peers),
        f"load_definitions = {definitions_file}",
        "log.console = false",
        "log.file.level = info",
        "vm_memory_high_watermark.relative = 0.2",
        "disk_free_limit.absolute = 50MB",
    ]
    return "\n".join(lines) + "\n"


class RabbitCluster:
    """Three RabbitMQ nodes on loopback, started, killed and restarted one by one."""

    def __init__(self, base: Path, city: str, codes: Iterable[str], secret_dir: Path, size: int = 3) -> None:
        self.script = find_rabbitmq()
        self.base = base.resolve()
        self.city = city
        self.codes = tuple(sorted(set(codes)))
        self.secret_dir = secret_dir
        tag = secrets.token_hex(3)
        self.nodes = [
            Node(i, f"hallq-{tag}-{i}@localhost", _free_port(), _free_port(), _free_port(), self.base / f"node{i}")
            for i in range(1, size + 1)
        ]
        self._procs: dict[int, subprocess.Popen[bytes]] = {}
        self.home = self.base / "home"

    # files
    def accounts(self) -> dict[str, Account]:
        """Every login of the cluster (the same passwords as the city Mosquitto's, same secret folder)."""
        return city_accounts(self.secret_dir, [*city_grants(self.city, self.codes), ADMIN_USERNAME])

    def account(self, username: str) -> Account:
        """One login."""
        return self.accounts()[username]

    def _write_files(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        cookie = self.home / ".erlang.cookie"
        if not cookie.exists():
            cookie.write_text(secrets.token_hex(20), encoding="ascii")
        cookie.chmod(0o400)
        defs = self.base / "definitions.json"
        defs.write_text(json.dumps(definitions(self.city, self.codes, self.accounts()), indent=1), encoding="utf-8")
        defs.chmod(0o600)
        for node in self.nodes:
            for sub in ("mnesia", "log"):
                (node.base / sub).mkdir(parents=True, exist_ok=True)
            (node.base / "rabbitmq.conf").write_text(node_conf(node, self.nodes, defs), encoding="utf-8")
            (node.base / "enabled_plugins").write_text("[rabbitmq_mqtt].\n", encoding="ascii")

    def env(self, node: Node) -> dict[str, str]:
        """The environment one node (and rabbitmqctl talking to it) runs with."""
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("RABBITMQ_")},
            "HOME": str(self.home),
            "RABBITMQ_NODENAME": node.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(node.amqp_port),
            "RABBITMQ_DIST_PORT": str(node.dist_port),
            "RABBITMQ_MNESIA_BASE": str(node.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(node.base / "log"),
            "RABBITMQ_CONFIG_FILE": str(node.base / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(node.base / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(node.base / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(node.base / "rabbit.pid"),
            "RABBITMQ_CONF_ENV_FILE": str(node.base / "rabbitmq-env.conf"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": ERL_ARGS,
        }

    # life cycle
    def start(self, timeout: float = 240.0) -> Self:
        """Start every node at once (they find each other) and wait until all three serve AMQP and MQTT."""
        self._write_files()
        self._epmd()
        for node in self.nodes:
            self.start_node(node.index, wait=False)
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            self._wait_ports(node, deadline)
        self.wait_members(len(self.nodes), deadline)
        return self

    def _epmd(self) -> None:
        """Erlang's port mapper in its own session, so killing a node's process group never takes it along."""
        epmd = shutil.which("epmd") or shutil.which("epmd", path="/usr/lib/erlang/bin")
        if epmd is None:
            raise ClusterError(INSTALL_HINT + "（缺少 epmd）")
        subprocess.run([str(epmd), "-daemon"], check=False, start_new_session=True, timeout=10)

    def start_node(self, index: int, wait: bool = True, timeout: float = 90.0) -> None:
        """Start (or restart) one node; it rejoins the cluster from its own data folder."""
        node = self.nodes[index - 1]
        proc = self._procs.get(index)
        if proc is not None and proc.poll() is None:
            return
        (node.base / "rabbitmq-env.conf").touch()
        out = (node.base / "log" / "stdout.log").open("ab")
        self._procs[index] = subprocess.Popen(
            [str(self.script)], env=self.env(node), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        out.close()
        if wait:
            self._wait_ports(node, time.monotonic() + timeout)

    def _wait_ports(self, node: Node, deadline: float) -> None:
        for port in (node.amqp_port, node.mqtt_port):
            while True:
                proc = self._procs[node.index]
                if proc.poll() is not None:
                    raise ClusterError(f"RabbitMQ 节点 {node.name} 启动失败：\n{self.log_tail(node.index)}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise ClusterError(
                            f"RabbitMQ 节点 {node.name} 未在时限内就绪：\n{self.log_tail(node.index)}"
                        ) from None
                    time.sleep(0.2)

    def ctl(self, *args: str, node: int = 1, timeout: float = 60.0) -> str:
        """Run rabbitmqctl against one node; its output."""
        env = self.env(self.nodes[node - 1])
        result = subprocess.run(
            [str(SBIN / "rabbitmqctl"), "-n", self.nodes[node - 1].name, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise ClusterError(f"rabbitmqctl {' '.join(args)} 失败：{result.stdout}{result.stderr}")
        return result.stdout

    def running_members(self, node: int = 1) -> list[str]:
        """Names of the nodes the given node sees running in its cluster."""
        status = json.loads(self.ctl("cluster_status", "--formatter", "json", node=node))
        return sorted(status.get("running_nodes", []))

    def wait_members(self, count: int, deadline: float, node: int = 1) -> None:
        """Wait until `count` nodes run in one cluster."""
        while True:
            try:
                if len(self.running_members(node)) >= count:
                    return
            except (ClusterError, ValueError, subprocess.TimeoutExpired):
                pass
            if time.monotonic() > deadline:
                raise ClusterError(f"RabbitMQ 集群未能组成 {count} 个节点：\n{self.log_tail(node)}")
            time.sleep(1.0)

    def kill(self, index: int) -> None:
        """kill -9 one node (its Erlang VM and helpers), as a crashed machine would go."""
        proc = self._procs.pop(index, None)
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def stop_node(self, index: int, timeout: float = 30.0) -> None:
        """Stop one node cleanly (SIGTERM to its start script, which stops the VM), kill on timeout."""
        proc = self._procs.pop(index, None)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        """Stop every node (in reverse order, so the last one keeps the cluster's view)."""
        for node in reversed(self.nodes):
            self.stop_node(node.index)

    def reload_accounts(self, codes: Iterable[str]) -> None:
        """A new hall registry: import the new users and permissions into the running cluster."""
        self.codes = tuple(sorted(set(codes)))
        self._write_files()
        running = next(i for i, p in self._procs.items() if p.poll() is None)
        self.ctl("import_definitions", str(self.base / "definitions.json"), node=running)

    def log_tail(self, index: int, lines: int = 30) -> str:
        """The end of one node's logs."""
        node = self.nodes[index - 1]
        parts = []
        for path in sorted((node.base / "log").glob("*.log")):
            text = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path} ---\n" + "\n".join(text))
        return "\n".join(parts) or "(no log)"

    @property
    def mqtt_ports(self) -> list[int]:
        """Each node's MQTT port (a bridge may use any of them)."""
        return [n.mqtt_port for n in self.nodes]

    @property
    def amqp_urls(self) -> list[str]:
        """An AMQP URL per node for the ingest login."""
        acc = self.account(INGEST_USERNAME)
        return [f"amqp://{acc.username}:{acc.password}@127.0.0.1:{n.amqp_port}/%2F" for n in self.nodes]

    def bridge_hall(self, username: str) -> str | None:
        """The hall a bridge login belongs to."""
        return hall_of_bridge(username)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
