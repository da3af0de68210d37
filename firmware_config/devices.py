"""Device profiles of a hall: one strict schema per device type, shared defaults, per-device overrides,
versioned with migrations. The file is `devices.yaml` next to `hall.yaml`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, TypeAdapter, ValidationError, model_validator

from firmware_config.hall import HallProfile, Strict, format_errors

DEVICES_VERSION = 1
DEVICE_ID = r"^[a-z][a-z0-9\-]{1,40}$"

# Raw-data migrations: MIGRATIONS[n] turns a version-n file into version n+1.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


class DeviceBase(Strict):
    """What every device has."""

    id: str = Field(pattern=DEVICE_ID, description="Also the device's broker username")
    name: str = Field(min_length=2, max_length=40, description="Shown to staff, e.g. 一楼大厅1号自助机")
    location: str = Field(default="大厅", min_length=1, max_length=40)
    keepalive_s: int = Field(default=30, ge=5, le=300, description="MQTT keepalive: offline detection time")


# --- hardware connections, chosen by `type` (simulators are explicit, never a silent default) ---


class NetworkConnection(Strict):
    """ESC/POS printer on raw TCP (port 9100)."""

    type: Literal["network"]
    host: str = Field(min_length=1)
    port: int = Field(default=9100, ge=1, le=65535)


class UsbConnection(Strict):
    """ESC/POS printer on USB."""

    type: Literal["usb"]
    vendor_id: int = Field(ge=0, le=0xFFFF)
    product_id: int = Field(ge=0, le=0xFFFF)


class SerialConnection(Strict):
    """A serial device (printer, ID card reader, RS-485 key box)."""

    type: Literal["serial"]
    port: str = Field(pattern=r"^/dev/\S+$")
    baudrate: int = Field(default=115200, ge=1200, le=921600)


class FileConnection(Strict):
    """Bytes written to a file or character device (e.g. /dev/usb/lp0)."""

    type: Literal["file"]
    path: str = Field(min_length=1)


class SimulatorConnection(Strict):
    """The byte-level simulator of the device, for demos and tests."""

    type: Literal["simulator"]
    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535, description="0: pick a free port")


PrinterConnection = Annotated[
    NetworkConnection | UsbConnection | SerialConnection | FileConnection | SimulatorConnection,
    Field(discriminator="type"),
]
ReaderConnection = Annotated[SerialConnection | SimulatorConnection, Field(discriminator="type")]


# --- device types ---


class KioskProfile(DeviceBase):
    """Self-service kiosk (自助终端)."""

    type: Literal["kiosk"]
    printer: str | None = Field(default=None, pattern=DEVICE_ID, description="Device id of its printer")
    id_reader: ReaderConnection | None = None
    face_checkin: bool = Field(default=False, description="Face is never the only way in")
    orientation: Literal["portrait", "landscape"] = "portrait"
    idle_timeout_s: int = Field(default=60, ge=15, le=600)
    twenty_four_hour: bool = Field(default=False, description="24-hour zone terminal (24小时自助区)")
    elderly_mode: bool = False
    assist_phone: str | None = Field(
        default=None, pattern=r"^[0-9\-]{5,20}$", description="Help number shown after hours (default the hall's)"
    )


class WindowDisplayProfile(DeviceBase):
    """Screen above one window."""

    type: Literal["window_display"]
    window: str = Field(pattern=r"^w[0-9]{2,3}$")
    voice: bool = False


class HallDisplayProfile(DeviceBase):
    """Large hall screen with the latest calls and queue summary."""

    type: Literal["hall_display"]
    orientation: Literal["portrait", "landscape"] = "landscape"
    recent_calls: int = Field(default=8, ge=1, le=30)
    voice: bool = True


class PrinterProfile(DeviceBase):
    """ESC/POS thermal printer driven by a printer agent."""

    type: Literal["printer"]
    window: str | None = Field(default=None, pattern=r"^w[0-9]{2,3}$", description="Set for a window's printer")
    paper_width_mm: Literal[58, 80] = 80
    connection: PrinterConnection
    status_poll_s: int = Field(default=10, ge=1, le=300)


class EvaluatorProfile(DeviceBase):
    """Rating tablet or key box by a window (好差评)."""

    type: Literal["evaluator"]
    window: str = Field(pattern=r"^w[0-9]{2,3}$")
    prompt_timeout_s: int = Field(default=60, ge=10, le=600)
    keybox: SerialConnection | None = Field(default=None, description="RS-485 key box instead of a tablet")


class CallerProfile(DeviceBase):
    """Window caller (叫号器) or the staff desk bound to one window."""

    type: Literal["caller"]
    window: str = Field(pattern=r"^w[0-9]{2,3}$")


class PickupCabinetProfile(DeviceBase):
    """证照自助领取柜 (24-hour zone): lockers on an RS-485 controller board, opened for the ID card read on
    the cabinet's own reader (kiosk/cabinet)."""

    type: Literal["pickup_cabinet"]
    controller: SerialConnection | SimulatorConnection = Field(discriminator="type")
    address: int = Field(default=1, ge=1, le=254, description="The controller board's RS-485 address")
    doors: int = Field(default=24, ge=1, le=96)
    id_reader: ReaderConnection
    open_alert_s: int = Field(default=120, ge=10, le=3600, description="A door left open this long is reported")


DeviceProfile = Annotated[
    KioskProfile
    | WindowDisplayProfile
    | HallDisplayProfile
    | PrinterProfile
    | EvaluatorProfile
    | CallerProfile
    | PickupCabinetProfile,
    Field(discriminator="type"),
]
_DEVICE = TypeAdapter(DeviceProfile)

# The `kind` a device announces on the bus (PROTOCOL.md availability payload).
BUS_KIND = {
    "kiosk": "kiosk",
    "window_display": "display",
    "hall_display": "display",
    "printer": "printer",
    "evaluator": "evaluator",
    "caller": "caller",
    "pickup_cabinet": "cabinet",  # extension of v2 (证照自助领取)
}


# Which request actions (PROTOCOL.md) each device type may send. The broker ACL and the server gateway
# both read this table: a device is refused by the broker before the server ever sees the request.
WINDOW_ACTIONS = (
    "window.call_next",
    "window.recall",
    "window.no_show",
    "window.start",
    "window.finish",
    "window.transfer",
    "window.suspend",
    "window.resume_ticket",
    "window.pause",
    "window.resume",
)
ALLOWED_ACTIONS: dict[str, tuple[str, ...]] = {
    "kiosk": (
        "ticket.issue",
        "appointment.checkin",
        "progress.query",
        "evaluation.submit",
        "guide.print",  # v1.2 extensions
        "visit.recent",
        "visit.check",  # rating proof (extension of v2)
        "assist.request",
        "contact.consent",  # notifications (extension of v2)
        "appointment.slots",  # v2.1 extensions
        "appointment.book",
        "green.request",  # 绿色通道 staff confirmation (extension of v2)
        "green.cancel",
        "complaint.submit",  # complaints and 办不成事 (extension of v2)
    ),
    "caller": (*WINDOW_ACTIONS, "ticket.issue"),
    "evaluator": ("evaluation.submit",),
    "window_display": (),
    "hall_display": (),
    "printer": (),
    "pickup_cabinet": ("pickup.open", "pickup.taken"),  # extension of v2 (证照自助领取)
}


def bound_window(device: DeviceProfile) -> str | None:
    """The window a device belongs to, if any."""
    return getattr(device, "window", None)


class DeviceSet(Strict):
    """Every device of a hall, validated together."""

    version: int = Field(default=DEVICES_VERSION, ge=1)
    devices: tuple[DeviceProfile, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> DeviceSet:
        if self.version != DEVICES_VERSION:  # read at run time: migrations may raise the version
            raise ValueError(f"设备配置版本 {self.version} 与程序支持的版本 {DEVICES_VERSION} 不一致")
        ids = [d.id for d in self.devices]
        if "hallserver" in ids:
            raise ValueError("设备编号 hallserver 保留给大厅服务器，不能用作设备")
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"设备编号重复：{dupes}")
        printers = {d.id for d in self.devices if d.type == "printer"}
        for d in self.devices:
            if isinstance(d, KioskProfile) and d.printer and d.printer not in printers:
                raise ValueError(f"设备 {d.id} 的打印机 {d.printer} 不存在或不是打印机")
        return self

    def get(self, device_id: str) -> DeviceProfile:
        """The device with this id; KeyError if unknown."""
        for d in self.devices:
            if d.id == device_id:
                return d
        raise KeyError(device_id)


class DeviceProfileError(ValueError):
    """A device file that cannot be used; names the file, the device and the field."""


def migrate(raw: dict[str, Any]) -> dict[str, Any]:
    """Bring a raw devices file up to DEVICES_VERSION, one registered migration at a time."""
    version = int(raw.get("version", 1))
    if version > DEVICES_VERSION:
        raise DeviceProfileError(f"设备配置版本 {version} 比本程序支持的版本 {DEVICES_VERSION} 新，请先升级 hallq")
    while version < DEVICES_VERSION:
        if version not in MIGRATIONS:
            raise DeviceProfileError(f"没有从版本 {version} 升级的迁移")
        raw = MIGRATIONS[version](dict(raw))
        version += 1
        raw["version"] = version
    return raw


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def load_devices(path: Path, hall: HallProfile | None = None) -> DeviceSet:
    """Read devices.yaml: apply migrations, merge `defaults[type]` into each device, validate strictly,
    and check window references against the hall profile when given."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DeviceProfileError(f"{path}: 无法读取设备配置：{exc}") from exc
    if not isinstance(raw, dict):
        raise DeviceProfileError(f"{path}: 设备配置应为一个映射（version、defaults、devices）")
    try:
        raw = migrate(raw)
    except DeviceProfileError as exc:
        raise DeviceProfileError(f"{path}: {exc}") from exc
    defaults = raw.get("defaults") or {}
    problems: list[str] = []
    devices = []
    for index, entry in enumerate(raw.get("devices") or []):
        label = entry.get("id", f"#{index + 1}") if isinstance(entry, dict) else f"#{index + 1}"
        if not isinstance(entry, dict):
            problems.append(f"设备 {label}: 应为一个映射")
            continue
        if entry.get("type") not in BUS_KIND:
            kinds = ", ".join(BUS_KIND)
            problems.append(f"设备 {label}: 字段 type: 未知的设备类型 {entry.get('type')!r}（可选：{kinds}）")
            continue
        merged = _merge(defaults.get(entry.get("type"), {}), entry)
        try:
            devices.append(_DEVICE.validate_python(merged))
        except ValidationError as exc:
            problems.append(f"设备 {label}: {format_errors(exc)}")
    unknown_defaults = set(defaults) - set(BUS_KIND)
    if unknown_defaults:
        problems.append(f"defaults: 未知的设备类型 {sorted(unknown_defaults)}")
    if problems:
        raise DeviceProfileError(f"{path}: " + "; ".join(problems))
    try:
        device_set = DeviceSet(version=raw.get("version", DEVICES_VERSION), devices=tuple(devices))
    except ValidationError as exc:
        raise DeviceProfileError(f"{path}: {format_errors(exc)}") from exc
    if hall is not None:
        windows = {w.id for w in hall.windows}
        for d in device_set.devices:
            window = bound_window(d)
            if window is not None and window not in windows:
                raise DeviceProfileError(f"{path}: 设备 {d.id} 字段 window: 窗口 {window} 不在大厅配置中")
    return device_set
