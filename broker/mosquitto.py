"""Mosquitto for one hall: its configuration rendered from the hall and device profiles (never written by
hand; accounts and ACL in broker.dynsec), and a broker subprocess for the CLI and the tests."""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from broker.dynsec import GENERATED, RECEIVE, SUBSCRIBE, AccountMismatch, security_config
from broker.tls import TlsFiles
from broker.topics import bridge_state, city_root, sync_root
from firmware_config.credentials import all_accounts
from firmware_config.devices import DeviceSet
from firmware_config.hall import BRIDGE_PASSWORD_FILE, CITY_SECRETS, HallProfile, city_secret

BROKER_USER = "mosquitto"
INSTALL_HINT = "未找到 mosquitto：请运行 make setup（安装 Debian 的 mosquitto 软件包）"
PLUGIN_GLOBS = (
    "/usr/lib/*/mosquitto_dynamic_security.so",
    "/usr/lib*/mosquitto_dynamic_security.so",
    "/usr/local/lib/mosquitto_dynamic_security.so",
)


class BrokerError(RuntimeError):
    """The broker could not be configured or started; the message says why."""


@dataclass(frozen=True)
class BrokerFiles:
    """What render() wrote and where the broker will listen."""

    out_dir: Path
    conf: Path
    security: Path  # dynamic-security.json: accounts (hashed passwords) and ACL
    log: Path
    data_dir: Path | None
    bind: str
    port: int
    tls: TlsFiles | None = None
    tls_port: int | None = None
    tls_bind: str | None = None  # the TLS listener's address (production: the hall LAN); default `bind`


def _path(path: Path) -> str:
    text = str(path)
    if any(ch.isspace() for ch in text):
        raise BrokerError(f"路径中不能有空白字符（mosquitto 配置不支持）：{text}")
    return text


def find_plugin() -> Path:
    """The dynamic-security plugin shipped with Debian's mosquitto package."""
    for pattern in PLUGIN_GLOBS:
        found = sorted(glob.glob(pattern))
        if found:
            return Path(found[0])
    raise BrokerError(INSTALL_HINT + "（缺少 mosquitto_dynamic_security.so）")


def conf_text(files: BrokerFiles, plugin: Path, log_stderr: bool = False) -> str:
    """mosquitto.conf for the files and listeners in `files`."""
    if files.data_dir is not None:
        persistence = f"persistence true\npersistence_location {_path(files.data_dir)}/\nautosave_interval 30"
    else:
        persistence = "persistence false"
    text = f"""# {GENERATED}
per_listener_settings false
allow_anonymous false
plugin {_path(plugin)}
plugin_opt_config_file {_path(files.security)}
max_queued_messages 1000
max_inflight_messages 20
persistent_client_expiration 1d
max_keepalive 300
# PROTOCOL.md: a payload over 64 KiB is refused (reason code "packet too large"); 1 KiB is left for
# the fixed header, the topic and properties, and the server answers `invalid` for what gets through.
max_packet_size 66560
# A request/reply bus sends bursts of small packets: Nagle + delayed ACK would add ~40 ms to each answer.
set_tcp_nodelay true
connection_messages true
log_type error
log_type warning
log_type notice
log_type information
log_timestamp_format %Y-%m-%dT%H:%M:%S
log_dest file {_path(files.log)}
{"log_dest stderr" if log_stderr else ""}
{persistence}

listener {files.port} {files.bind}
protocol mqtt
"""
    if files.tls is not None and files.tls_port is not None:
        text += f"""
listener {files.tls_port} {files.tls_bind or files.bind}
protocol mqtt
cafile {_path(files.tls.cafile)}
certfile {_path(files.tls.certfile)}
keyfile {_path(files.tls.keyfile)}
require_certificate false
tls_version tlsv1.2
"""
    return text


def _broker_ids() -> tuple[int, int] | None:
    """(uid, gid) mosquitto drops to when started as root; None when no drop happens."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(BROKER_USER)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def _check_reachable(path: Path, uid: int, gid: int) -> None:
    """Fail early when a parent folder would stop the `mosquitto` user from reaching `path`."""
    for parent in path.parents:
        st = parent.stat()
        if st.st_uid == uid:
            bit = stat.S_IXUSR
        elif st.st_gid == gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            raise BrokerError(f"mosquitto 以用户 {BROKER_USER} 运行，无法进入目录 {parent}：请换一个输出目录")


def _write(path: Path, text: str, mode: int, owner: tuple[int, int] | None) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    tmp.chmod(mode)
    if owner:
        os.chown(tmp, *owner)
    tmp.replace(path)


def _copy_tls(tls: TlsFiles, folder: Path, owner: tuple[int, int] | None) -> TlsFiles:
    folder.mkdir(mode=0o700, exist_ok=True)
    copied = TlsFiles(folder / "ca.crt", folder / "server.crt", folder / "server.key")
    for src, dst in zip(tls.__dict__.values(), copied.__dict__.values(), strict=True):
        _write(dst, src.read_text(encoding="ascii"), 0o600 if dst == copied.keyfile else 0o644, owner)
    if owner:
        os.chown(folder, *owner)
    return copied


def prepare_files(
    out_dir: Path,
    port: int,
    bind: str,
    tls: TlsFiles | None,
    tls_port: int | None,
    tls_bind: str | None,
    persistence: bool,
) -> tuple[BrokerFiles, tuple[int, int] | None]:
    """A broker's folder made readable by the `mosquitto` user (with its data folder and a copy of the TLS
    files), the paths of what goes in it, and that user's ids (None when not running as root)."""
    owner = _broker_ids()
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o750)
    if owner:
        _check_reachable(out_dir, *owner)
        os.chown(out_dir, *owner)
    data_dir = out_dir / "data" if persistence else None
    if data_dir is not None:
        data_dir.mkdir(exist_ok=True, mode=0o750)
        if owner:
            os.chown(data_dir, *owner)
    files = BrokerFiles(
        out_dir=out_dir,
        conf=out_dir / "mosquitto.conf",
        security=out_dir / "dynamic-security.json",
        log=out_dir / "mosquitto.log",
        data_dir=data_dir,
        bind=bind,
        port=port,
        tls=_copy_tls(tls, out_dir / "tls", owner) if tls else None,
        tls_port=tls_port,
        tls_bind=tls_bind if tls else None,
    )
    return files, owner


def render(
    hall: HallProfile,
    devices: DeviceSet,
    secret_dir: Path,
    out_dir: Path,
    port: int,
    tls: TlsFiles | None = None,
    tls_port: int | None = None,
    persistence: bool = True,
    bind: str = "127.0.0.1",
    tls_bind: str | None = None,
    log_stderr: bool = False,
    hall_dir: Path | None = None,
) -> BrokerFiles:
    """Write mosquitto.conf and dynamic-security.json for this hall into out_dir, readable by the broker;
    with the profile's `city:` section, the bridge to the city broker too (relative TLS paths in it are
    read from `hall_dir`, the folder of hall.yaml)."""
    if (tls is None) != (tls_port is None):
        raise BrokerError("TLS 监听需要同时给出证书和端口")
    out_dir = out_dir.resolve()
    files, owner = prepare_files(out_dir, port, bind, tls, tls_port, tls_bind, persistence)
    try:
        security = security_config(hall.hall.id, devices, all_accounts(secret_dir, devices))
    except AccountMismatch as exc:
        raise BrokerError(str(exc)) from exc
    conf = conf_text(files, find_plugin(), log_stderr)
    if hall.city is not None:
        conf += bridge_text(hall, secret_dir, hall_dir, out_dir, owner)
        _allow_server_city_topics(security, hall)
    _write(files.security, json.dumps(security, ensure_ascii=False, indent=1) + "\n", 0o600, owner)
    _write(files.conf, conf, 0o640, owner)
    if not files.log.exists():
        _write(files.log, "", 0o640, owner)
    return files


def bridge_name(hall: HallProfile) -> str:
    """The bridge connection's name; its state is on `$SYS/broker/connection/{name}/state`."""
    return f"city-{hall.hall.id}"


def bridge_text(
    hall: HallProfile, secret_dir: Path, hall_dir: Path | None, out_dir: Path, owner: tuple[int, int] | None
) -> str:
    """The `connection` section bridging this hall to its city (PROTOCOL.md "The city link"): records out,
    acks and the city's notices in, QoS 1, a persistent session, MQTT 3.1.1 (clustered engines speak no
    more), its own account, TLS when configured. The hall's `hall/{id}/sync/` is the city's
    `hall/{code}/sync/`: the city knows halls by the code it assigned."""
    link = hall.city
    assert link is not None and hall.hall.code is not None
    password = city_secret(secret_dir, BRIDGE_PASSWORD_FILE)
    if password is None:
        raise BrokerError(
            f"缺少市级平台为本大厅桥接账号分配的密码：{secret_dir / CITY_SECRETS / BRIDGE_PASSWORD_FILE}"
            "（由市级 hallq provision 生成）"
        )
    for value in (password, link.bridge_username, link.clientid, link.broker_host):
        if any(ch.isspace() for ch in value):
            raise BrokerError("桥接配置中不能有空白字符")
    name = bridge_name(hall)
    local, remote = sync_root(hall.hall.id), sync_root(hall.hall.code)
    lines = [
        "",
        f"# The city link: generated from hall.yaml `city:` ({GENERATED})",
        f"connection {name}",
        " ".join(["address", f"{link.broker_host}:{link.broker_port}", *link.other_brokers]),
        "round_robin false",  # back to the first node when it returns; the others are for failover
        "bridge_protocol_version mqttv311",
        "try_private false",
        "cleansession false",
        f"local_clientid {name}-local",
        f"remote_clientid {link.clientid}",
        f"remote_username {link.bridge_username}",
        f"remote_password {password}",
        "notifications true",
        "notifications_local_only true",
        f"notification_topic {bridge_state(name)}",
        "keepalive_interval 30",
        "restart_timeout 2 15",
        "start_type automatic",
        f"topic up/# out 1 {local} {remote}",
        f"topic ack in 1 {local} {remote}",
        f"topic # in 1 {city_root(link.city)}/ {city_root(link.city)}/",
    ]
    if link.tls:
        lines += _bridge_tls(link.ca_file, link.cert_file, link.key_file, hall_dir, out_dir, owner)
    return "\n".join(lines) + "\n"


def _bridge_tls(
    ca: Path | None,
    cert: Path | None,
    key: Path | None,
    hall_dir: Path | None,
    out_dir: Path,
    owner: tuple[int, int] | None,
) -> list[str]:
    """TLS lines of the bridge, its files copied where the broker's user can read them."""
    if ca is None:
        return ["bridge_capath /etc/ssl/certs", "bridge_insecure false"]
    folder = out_dir / "city-tls"
    folder.mkdir(mode=0o700, exist_ok=True)
    if owner:
        os.chown(folder, *owner)
    lines = []
    for option, src, name, mode in (
        ("bridge_cafile", ca, "ca.crt", 0o644),
        ("bridge_certfile", cert, "client.crt", 0o644),
        ("bridge_keyfile", key, "client.key", 0o600),
    ):
        if src is None:
            continue
        path = src if src.is_absolute() or hall_dir is None else hall_dir / src
        try:
            text = path.read_text(encoding="ascii")
        except OSError as exc:
            raise BrokerError(f"无法读取市级平台连接的证书文件 {path}：{exc}") from exc
        _write(folder / name, text, mode, owner)
        lines.append(f"{option} {_path(folder / name)}")
    return [*lines, "bridge_insecure false"]


def _allow_server_city_topics(security: dict[str, object], hall: HallProfile) -> None:
    """The server reads the bridge's state and the city's notices (devices never: they stay default-deny)."""
    assert hall.city is not None
    roles = security["roles"]
    assert isinstance(roles, list)
    server = next(r for r in roles if r["rolename"] == "server")
    for topic in (bridge_state(bridge_name(hall)), f"{city_root(hall.city.city)}/#"):
        server["acls"] += [{"acltype": kind, "topic": topic, "allow": True} for kind in (RECEIVE, SUBSCRIBE)]


def find_mosquitto() -> str:
    """Path of the mosquitto executable (Debian installs it in /usr/sbin)."""
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if not found:
        raise BrokerError(INSTALL_HINT)
    return found


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _ensure_free(host: str, port: int) -> None:
    """Refuse a port someone else listens on (so readiness is never mistaken for another server's)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise BrokerError(f"端口 {host}:{port} 已被占用，mosquitto 无法监听：{exc}") from exc


def _local(bind: str) -> str:
    return "127.0.0.1" if bind in ("0.0.0.0", "", "::") else bind


class BrokerProcess:
    """A mosquitto subprocess on rendered files: start, stop, restart; usable as a context manager."""

    def __init__(self, files: BrokerFiles, startup_timeout: float = 10.0, inherit_output: bool = False) -> None:
        self.files = files
        self.startup_timeout = startup_timeout
        self.inherit_output = inherit_output
        self.executable = find_mosquitto()
        self._proc: subprocess.Popen[bytes] | None = None
        self.stderr_file = files.out_dir / "mosquitto.stderr"  # start-up errors before the log opens

    @property
    def host(self) -> str:
        """Address local clients connect to (plain listener)."""
        return _local(self.files.bind)

    @property
    def port(self) -> int:
        """Plain MQTT port."""
        return self.files.port

    @property
    def tls_port(self) -> int | None:
        """TLS port, if the TLS listener is on."""
        return self.files.tls_port

    @property
    def running(self) -> bool:
        """Whether the subprocess is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """Process id of the started broker (for a supervisor that must stop it), None before start()."""
        return self._proc.pid if self._proc is not None else None

    def start(self) -> Self:
        """Start mosquitto and wait until every listener accepts connections."""
        if self.running:
            return self
        ports = [(self.files.bind, self.port)]
        if self.tls_port is not None:
            ports.append((self.files.tls_bind or self.files.bind, self.tls_port))
        for bind, port in ports:
            _ensure_free(bind, port)
        log_start = self.files.log.stat().st_size if self.files.log.exists() else 0
        cmd = [self.executable, "-c", str(self.files.conf)]
        if self.inherit_output:
            self._proc = subprocess.Popen(cmd)
        else:
            with self.stderr_file.open("ab") as out:
                self._proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.startup_timeout
        while ports:
            if self._proc.poll() is not None:
                raise BrokerError(f"mosquitto 启动失败（退出码 {self._proc.returncode}）：\n{self.log_tail()}")
            try:
                socket.create_connection((_local(ports[0][0]), ports[0][1]), timeout=0.5).close()
                ports.pop(0)
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise BrokerError(
                        f"mosquitto 在 {self.startup_timeout:g} 秒内未就绪：\n{self.log_tail()}"
                    ) from None
                time.sleep(0.05)
        self._check_log(log_start)
        return self

    def _check_log(self, offset: int) -> None:
        """Mosquitto keeps running, refusing every login, when the security plugin cannot load its file."""
        with self.files.log.open("rb") as handle:
            handle.seek(offset)
            fresh = handle.read().decode("utf-8", errors="replace")
        if "Error loading Dynamic security plugin config" in fresh:
            self.stop()
            raise BrokerError(f"mosquitto 无法读取账号与权限配置 {self.files.security}：\n{fresh}")

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM (mosquitto saves its persistence file), wait, kill on timeout; returns the exit code."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def restart(self) -> Self:
        """Stop and start again on the same files and ports."""
        self.stop()
        return self.start()

    def wait(self) -> int:
        """Block until the broker exits; its exit code."""
        if self._proc is None:
            raise BrokerError("mosquitto 未启动")
        return self._proc.wait()

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the broker log and of its own output."""
        parts = []
        for path in (self.files.log, self.stderr_file):
            if path.exists():
                text = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path} ---\n" + "\n".join(text))
        return "\n".join(parts) or "(no log)"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
