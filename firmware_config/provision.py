"""Provisioning of embedded boards: for every device of a hall, its broker credentials, its config
(the same content the server publishes as the retained `device/{id}/config`) and a systemd unit."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from firmware_config.credentials import SERVER_USERNAME, Account, device_account
from firmware_config.devices import (
    ALLOWED_ACTIONS,
    BUS_KIND,
    DEVICES_VERSION,
    DeviceProfile,
    DeviceSet,
    EvaluatorProfile,
    KioskProfile,
    PickupCabinetProfile,
    PrinterProfile,
    SerialConnection,
    load_devices,
)
from firmware_config.hall import HallProfile, load_hall_profile

INSTALL_ROOT = PurePosixPath("/etc/hallq")
UNIT_DIR = PurePosixPath("/etc/systemd/system")
DEFAULT_EXEC = "/opt/hallq/.venv/bin/hallq"

# The `hallq` subcommand that runs each device type on its board.
SUBCOMMAND = {
    "kiosk": "kiosk",
    "window_display": "display",
    "hall_display": "display",
    "printer": "printer-agent",
    "evaluator": "evaluator",
    "caller": "caller",
    "pickup_cabinet": "cabinet",
}
TYPE_NAMES = {
    "kiosk": "自助终端",
    "window_display": "窗口屏",
    "hall_display": "大厅综合屏",
    "printer": "打印机",
    "evaluator": "评价器",
    "caller": "叫号器",
    "pickup_cabinet": "证照自助领取柜",
}
_HOST = re.compile(r"^[A-Za-z0-9.\-:\[\]]{1,253}$")
_USER = re.compile(r"^[a-z_][a-z0-9_\-]{0,31}$")
_ENV_VALUE = re.compile(r"^[A-Za-z0-9._:/@+=\-\[\]]*$")
_EXEC = re.compile(r"^/[^\s%$\"'\\]+( [^\s%$\"'\\]+)*$")


class ProvisionError(ValueError):
    """Provisioning cannot go ahead; the message says why, in Chinese."""


@dataclass(frozen=True)
class BrokerEndpoint:
    """Where devices reach the hall's MQTT broker."""

    host: str
    port: int = 1883
    tls: bool = False

    def __post_init__(self) -> None:
        if not _HOST.fullmatch(self.host):
            raise ProvisionError(f"代理服务器地址无效：{self.host!r}")
        if not 1 <= self.port <= 65535:
            raise ProvisionError(f"代理服务器端口无效：{self.port}")


def install_dir(device_id: str) -> PurePosixPath:
    """Where a device's files live on its board."""
    return INSTALL_ROOT / device_id


def unit_name(device_id: str) -> str:
    """The systemd unit of a device."""
    return f"hallq-{device_id}.service"


def device_config(hall: HallProfile, device: DeviceProfile, broker: BrokerEndpoint) -> dict[str, Any]:
    """The device's config document: its validated profile plus what it needs to join the bus (no secrets).

    `profile` is kept whole so a device can re-validate it with the same strict schema."""
    return {
        "schema_version": DEVICES_VERSION,
        "hall": hall.hall.id,
        "hall_name": hall.hall.name,
        "device_id": device.id,
        "type": device.type,
        "bus_kind": BUS_KIND[device.type],
        "allowed_actions": list(ALLOWED_ACTIONS[device.type]),
        "broker": {
            "host": broker.host,
            "port": broker.port,
            "tls": broker.tls,
            "ca_file": str(install_dir(device.id) / "ca.crt") if broker.tls else None,
        },
        "profile": device.model_dump(mode="json"),
    }


def credentials_env(hall: HallProfile, device: DeviceProfile, account: Account, broker: BrokerEndpoint) -> str:
    """The EnvironmentFile of a device: broker login and identity."""
    values = {
        "HALLQ_HALL_ID": hall.hall.id,
        "HALLQ_DEVICE_ID": device.id,
        "HALLQ_DEVICE_CONFIG": str(install_dir(device.id) / "device.json"),
        "HALLQ_BROKER_HOST": broker.host,
        "HALLQ_BROKER_PORT": str(broker.port),
        "HALLQ_BROKER_USERNAME": account.username,
        "HALLQ_BROKER_PASSWORD": account.password,
        "HALLQ_BROKER_TLS": "true" if broker.tls else "false",
    }
    if broker.tls:
        values["HALLQ_BROKER_CA_FILE"] = str(install_dir(device.id) / "ca.crt")
    for key, value in values.items():
        # Unquoted values must stay literal for systemd, dotenv and a shell alike.
        if not _ENV_VALUE.fullmatch(value):
            raise ProvisionError(f"设备 {device.id} 的 {key} 含有不允许的字符")
    lines = [f"# hallq 设备 {device.id} 的连接参数与代理密码：属主 root，权限 0600，请勿外传。"]
    return "\n".join([*lines, *(f"{k}={v}" for k, v in values.items())]) + "\n"


def needs_screen(device: DeviceProfile) -> bool:
    """Kiosks, displays and evaluator tablets (not key boxes) draw a Kivy UI."""
    if isinstance(device, EvaluatorProfile):
        return device.keybox is None
    return device.type in ("kiosk", "window_display", "hall_display")


def device_groups(device: DeviceProfile) -> tuple[str, ...]:
    """Unix groups the device app needs for its hardware (screen, serial port, printer device)."""
    groups = {"video", "audio"} if needs_screen(device) else set()
    connections: list[Any] = []
    if isinstance(device, PrinterProfile):
        connections.append(device.connection)
    elif isinstance(device, KioskProfile):
        connections.append(device.id_reader)
    elif isinstance(device, EvaluatorProfile):
        connections.append(device.keybox)
    elif isinstance(device, PickupCabinetProfile):
        connections += [device.controller, device.id_reader]
    for conn in connections:
        if isinstance(conn, SerialConnection):
            groups.add("dialout")
        elif getattr(conn, "type", None) in ("usb", "file"):
            groups.add("lp")
    return tuple(sorted(groups))


def systemd_unit(device: DeviceProfile, exec_prefix: str = DEFAULT_EXEC, user: str = "hallq") -> str:
    """The systemd unit that runs one device app on its board (Type=notify, watchdog, hardened)."""
    if not _EXEC.fullmatch(exec_prefix):
        raise ProvisionError(f"启动命令须为绝对路径，且不含空白以外的特殊字符：{exec_prefix!r}")
    if not _USER.fullmatch(user):
        raise ProvisionError(f"运行用户名无效：{user!r}")
    screen = needs_screen(device)
    title = " ".join(f"hallq {TYPE_NAMES[device.type]} {device.name}（{device.id}）".split())
    after = "network-online.target graphical.target" if screen else "network-online.target"
    groups = device_groups(device)
    state = f"%S/hallq/{device.id}"
    lines = [
        "# 由 hallq provision 生成：请修改 devices.yaml 后重新生成，不要手工修改。",
        "[Unit]",
        f"Description={title.replace('%', '%%')}",
        f"After={after}",
        "Wants=network-online.target",
        # A crash loop stops after 5 starts in 5 minutes: the device then shows offline to managers.
        "StartLimitIntervalSec=300",
        "StartLimitBurst=5",
        "",
        "[Service]",
        "Type=notify",
        "NotifyAccess=main",
        f"ExecStart={exec_prefix} {SUBCOMMAND[device.type]} --device {device.id}",
        f"EnvironmentFile={install_dir(device.id) / 'credentials.env'}",
        f"User={user}",
        *([f"SupplementaryGroups={' '.join(groups)}"] if groups else []),
        f"StateDirectory=hallq/{device.id}",
        f"WorkingDirectory={state}",
    ]
    if screen:
        # Screens draw on the board's local X session (:0, auto-login of the same user); Kivy must not
        # parse our --device argument, and keeps its config in the state directory.
        lines += [
            "Environment=DISPLAY=:0",
            "Environment=KIVY_NO_ARGS=1",
            f"Environment=KIVY_HOME={state}/kivy",
        ]
    lines += [
        "Restart=on-failure",
        "RestartSec=5",
        "WatchdogSec=30",
        "TimeoutStartSec=120",
        "NoNewPrivileges=yes",
        "ProtectSystem=full",
        "PrivateTmp=yes",
        "",
        "[Install]",
        f"WantedBy={'graphical.target' if screen else 'multi-user.target'}",
    ]
    return "\n".join(lines) + "\n"


def load_hall_devices(hall_dir: Path) -> tuple[HallProfile, DeviceSet]:
    """hall.yaml and devices.yaml of a hall folder, validated together."""
    hall = load_hall_profile(hall_dir / "hall.yaml")
    devices = load_devices(hall_dir / "devices.yaml", hall)
    for d in devices.devices:
        if d.id == SERVER_USERNAME:
            raise ProvisionError(f"{hall_dir / 'devices.yaml'}: 设备编号 {d.id} 保留给大厅服务器，请改名")
    return hall, devices


def summary_lines(hall: HallProfile, devices: DeviceSet) -> list[str]:
    """The device summary for people: total and count per type."""
    counts: Counter[str] = Counter(d.type for d in devices.devices)
    lines = [f"{hall.hall.name}（{hall.hall.id}）：共 {len(devices.devices)} 台设备"]
    lines += [f"  {name}（{t}）：{counts[t]}" for t, name in TYPE_NAMES.items() if counts[t]]
    return lines


@dataclass(frozen=True)
class ProvisionResult:
    """What provisioning wrote."""

    hall: HallProfile
    devices: DeviceSet
    out_dir: Path
    broker: BrokerEndpoint
    stale: tuple[str, ...] = ()

    def by_type(self) -> dict[str, int]:
        """Number of devices of each type."""
        return dict(Counter(d.type for d in self.devices.devices))

    def summary(self) -> str:
        """Multi-line summary for people."""
        return "\n".join(summary_lines(self.hall, self.devices))


def _write(path: Path, text: str, mode: int) -> None:
    """Write a file that never exists with a wider mode than `mode`, replacing any older one."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), mode)
        handle.write(text)
    os.replace(tmp, path)


def _read_ca(ca_file: Path | None) -> str:
    if ca_file is None:
        raise ProvisionError("启用 TLS 时须提供 CA 证书（--ca-file），设备用它校验代理服务器")
    try:
        text = ca_file.read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        raise ProvisionError(f"{ca_file}: 无法读取 CA 证书：{exc}") from exc
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise ProvisionError(f"{ca_file}: 不是 PEM 格式的证书")
    return text


def readme(hall: HallProfile, devices: DeviceSet, broker: BrokerEndpoint, user: str) -> str:
    """README.txt for the installer, in Chinese: where each file goes and how to start the service."""
    tls = f"是（CA 证书 ca.crt → {INSTALL_ROOT}/<设备编号>/ca.crt）" if broker.tls else "否"
    lines = [
        f"hallq 设备安装包 —— {hall.hall.name}（{hall.hall.id}）",
        f"消息代理：{broker.host}:{broker.port}，TLS：{tls}",
        "",
        "每台设备一个目录 <设备编号>/，把其中的文件复制到该设备所在主板：",
        f"  credentials.env → {INSTALL_ROOT}/<设备编号>/credentials.env",
        "      属主 root，权限 0600，含代理密码，勿外传",
        f"  device.json → {INSTALL_ROOT}/<设备编号>/device.json",
        "      权限 0644，设备配置，不含密码",
        f"  hallq-<设备编号>.service → {UNIT_DIR}/hallq-<设备编号>.service",
        "      权限 0644，systemd 服务单元",
        "",
        "安装步骤（在主板上以 root 执行，以 kiosk-01 为例）：",
        "  1. 将 hallq 安装到 /opt/hallq/.venv"
        + ("" if user == "root" else f"，并创建运行用户：useradd --system --create-home {user}"),
        f"  2. install -d -m 0755 {INSTALL_ROOT}/kiosk-01",
        f"     install -m 0600 -o root -g root kiosk-01/credentials.env {INSTALL_ROOT}/kiosk-01/",
        f"     install -m 0644 kiosk-01/device.json {INSTALL_ROOT}/kiosk-01/",
        f"     install -m 0644 kiosk-01/hallq-kiosk-01.service {UNIT_DIR}/",
        "  3. systemctl daemon-reload && systemctl enable --now hallq-kiosk-01.service",
        "  4. 检查：systemctl status hallq-kiosk-01；日志：journalctl -u hallq-kiosk-01 -f",
        "",
        "说明：",
        "  · 一块主板可运行多台设备（如自助终端和它的打印机），把各自的目录都装上即可。",
        f"  · 屏幕类设备（自助终端、窗口屏、综合屏、评价平板）在图形界面就绪后启动，显示在本机 X 会话 :0 上；"
        f"请设置用户 {user} 自动登录图形界面。",
        "  · 串口设备需要 dialout 组，打印机设备文件需要 lp 组，单元文件已写明；",
        "    USB 打印机还需 udev 规则授权。",
        "  · 服务异常退出或 30 秒无心跳会自动重启；5 分钟内重启 5 次仍失败则停止，管理端显示该设备离线。",
        "  · 修改 devices.yaml 后请重新执行 hallq provision 并重新安装；",
        "    密码保存在服务器的密钥目录中，重新生成不会改变。",
    ]
    if not broker.tls:
        lines.append("  · 注意：未启用 TLS。正式运行的大厅必须启用 TLS（hallq provision --tls --ca-file ...）。")
    lines += ["", "设备清单：", "  编号 | 类型 | 名称 | 位置 | 服务"]
    for d in devices.devices:
        lines.append(f"  {d.id} | {TYPE_NAMES[d.type]} | {d.name} | {d.location} | {unit_name(d.id)}")
    return "\n".join(lines) + "\n"


def provision(
    hall_dir: Path,
    secret_dir: Path,
    out_dir: Path,
    broker_host: str,
    broker_port: int,
    tls: bool = False,
    ca_file: Path | None = None,
    exec_prefix: str = DEFAULT_EXEC,
    user: str = "hallq",
) -> ProvisionResult:
    """Write out_dir/<device-id>/{credentials.env, device.json, hallq-<id>.service} and README.txt."""
    hall, devices = load_hall_devices(hall_dir)
    broker = BrokerEndpoint(broker_host, broker_port, tls)
    ca_text = _read_ca(ca_file) if tls else None
    units = {d.id: systemd_unit(d, exec_prefix, user) for d in devices.devices}  # validate before writing
    out_dir.mkdir(parents=True, exist_ok=True)
    for d in devices.devices:
        folder = out_dir / d.id
        folder.mkdir(exist_ok=True)
        account = device_account(secret_dir, d.id)
        _write(folder / "credentials.env", credentials_env(hall, d, account, broker), 0o600)
        config = json.dumps(device_config(hall, d, broker), ensure_ascii=False, indent=2)
        _write(folder / "device.json", config + "\n", 0o644)
        _write(folder / unit_name(d.id), units[d.id], 0o644)
        if ca_text is not None:
            _write(folder / "ca.crt", ca_text, 0o644)
    ids = {d.id for d in devices.devices}
    stale = tuple(
        sorted(p.name for p in out_dir.iterdir() if p.is_dir() and p.name not in ids and any(p.glob("hallq-*")))
    )
    _write(out_dir / "README.txt", readme(hall, devices, broker, user), 0o644)
    return ProvisionResult(hall, devices, out_dir, broker, stale)
