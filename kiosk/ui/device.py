"""How a hall-floor device finds its profile and its broker login — the Kivy apps and the printer agent alike
(no Kivy here): a provisioned board's device.json and credentials from the environment (HALLQ_DEVICE_CONFIG,
HALLQ_BROKER_*), else the hall folder (hall.yaml, devices.yaml) and the secret folder of a development machine."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from broker.client import BusSettings
from firmware_config.credentials import device_account
from firmware_config.devices import DeviceProfile, DeviceSet, load_devices
from firmware_config.hall import HallProfile, load_hall_profile
from kiosk.settings import DeviceSettings

_PROFILE: TypeAdapter[DeviceProfile] = TypeAdapter(DeviceProfile)


class DeviceSetupError(ValueError):
    """The device cannot start: unknown id, wrong type, unreadable config (message in Chinese)."""


@dataclass(frozen=True)
class DeviceSetup:
    """What a device app starts from. `hall` and `devices` are known only when read from the hall folder;
    `config` is the raw device.json of a provisioned board."""

    profile: DeviceProfile
    bus: BusSettings
    hall_name: str
    hall: HallProfile | None = None
    devices: DeviceSet | None = None
    config: dict[str, Any] | None = None


def _from_config(device: str, config_file: Path, types: tuple[str, ...]) -> tuple[DeviceProfile, dict[str, Any]]:
    try:
        raw = json.loads(config_file.read_text(encoding="utf-8"))
        profile = _PROFILE.validate_python(raw["profile"])
    except (OSError, ValueError, KeyError) as exc:
        raise DeviceSetupError(f"无法读取设备配置 {config_file}：{exc}") from exc
    if raw.get("device_id") != device or profile.type not in types:
        raise DeviceSetupError(f"{config_file} 不是设备 {device}（{'/'.join(types)}）的配置")
    return profile, raw


def load_device(
    device: str,
    types: tuple[str, ...],
    hall_dir: Path | None = None,
    secret_dir: Path | None = None,
    broker_host: str | None = None,
    broker_port: int | None = None,
) -> DeviceSetup:
    """The device's profile (of one of `types`) and its broker settings."""
    settings = DeviceSettings()
    config_file = os.environ.get("HALLQ_DEVICE_CONFIG")
    raw: dict[str, Any] | None = None
    hall: HallProfile | None = None
    devices: DeviceSet | None = None
    if hall_dir is None and config_file and Path(config_file).exists():
        profile, raw = _from_config(device, Path(config_file), types)
        hall_id, hall_name, timezone = str(raw["hall"]), str(raw.get("hall_name") or ""), "Asia/Shanghai"
    else:
        folder = hall_dir or settings.hall_dir
        try:
            hall = load_hall_profile(folder / "hall.yaml")
            devices = load_devices(folder / "devices.yaml", hall)
            profile = devices.get(device)
        except KeyError:
            raise DeviceSetupError(f"设备 {device} 不在 {folder / 'devices.yaml'} 中") from None
        except ValueError as exc:
            raise DeviceSetupError(str(exc)) from exc
        if profile.type not in types:
            raise DeviceSetupError(f"设备 {device} 的类型是 {profile.type}，这里需要 {'/'.join(types)}")
        hall_id, hall_name, timezone = hall.hall.id, hall.hall.name, hall.hours.timezone
    username, password = os.environ.get("HALLQ_BROKER_USERNAME"), os.environ.get("HALLQ_BROKER_PASSWORD")
    if username != device or not password or secret_dir is not None:
        password = device_account(secret_dir or settings.secret_dir, device).password
    broker = (raw or {}).get("broker") or {}
    bus = BusSettings(
        hall=hall_id,
        client_id=device,
        username=device,
        password=password,
        host=broker_host or settings.broker_host or broker.get("host") or "127.0.0.1",
        port=broker_port or (settings.broker_port if settings.broker_host else broker.get("port", 1883)),
        ca_file=settings.broker_ca_file or (Path(broker["ca_file"]) if broker.get("ca_file") else None),
        keepalive=profile.keepalive_s,
        timezone=timezone,
    )
    return DeviceSetup(profile, bus, hall_name, hall, devices, raw)
