"""The device profile schema: the demo set loads; defaults merge; broken files name file, device and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter

from firmware_config import devices
from firmware_config.devices import (
    BUS_KIND,
    DeviceProfile,
    DeviceProfileError,
    DeviceSet,
    KioskProfile,
    NetworkConnection,
    PrinterProfile,
    load_devices,
    migrate,
)
from firmware_config.hall import HallProfile, load_hall_profile
from tests.conftest import DEMO_HALL


@pytest.fixture(scope="module")
def hall() -> HallProfile:
    return load_hall_profile(DEMO_HALL / "hall.yaml")


@pytest.fixture
def raw() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEMO_HALL / "devices.yaml").read_text(encoding="utf-8"))
    return data


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "devices.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _load(tmp_path: Path, data: dict[str, Any], hall: HallProfile | None = None) -> DeviceSet:
    return load_devices(_write(tmp_path, data), hall)


def _entry(data: dict[str, Any], device_id: str) -> dict[str, Any]:
    entry: dict[str, Any] = next(d for d in data["devices"] if d["id"] == device_id)
    return entry


def test_demo_device_set_covers_the_hall(hall: HallProfile) -> None:
    device_set = load_devices(DEMO_HALL / "devices.yaml", hall)
    assert len(device_set.devices) == 91
    assert {d.type for d in device_set.devices} == set(BUS_KIND)
    for window in hall.windows:
        bound = {d.type for d in device_set.devices if getattr(d, "window", None) == window.id}
        assert bound >= {"window_display", "evaluator", "caller", "printer"}, window.id
    assert [w.id for w in hall.windows] == [f"w{n:02d}" for n in range(1, 21)]
    kiosk = device_set.get("kiosk-01")
    assert isinstance(kiosk, KioskProfile)
    assert isinstance(device_set.get(kiosk.printer or ""), PrinterProfile)


def test_defaults_merge_under_each_device_and_own_keys_win(tmp_path: Path) -> None:
    data = {
        "version": 1,
        "defaults": {
            "kiosk": {"idle_timeout_s": 90, "keepalive_s": 20},
            "printer": {
                "paper_width_mm": 58,
                "connection": {"type": "network", "host": "10.1.1.9", "port": 9101},
            },
        },
        "devices": [
            {"id": "kiosk-a", "type": "kiosk", "name": "自助机甲"},
            {"id": "kiosk-b", "type": "kiosk", "name": "自助机乙", "idle_timeout_s": 120},
            {"id": "printer-a", "type": "printer", "name": "打印机甲"},
            {"id": "printer-b", "type": "printer", "name": "打印机乙", "connection": {"host": "10.1.1.10"}},
        ],
    }
    device_set = _load(tmp_path, data)
    a, b = device_set.get("kiosk-a"), device_set.get("kiosk-b")
    assert isinstance(a, KioskProfile) and isinstance(b, KioskProfile)
    assert (a.idle_timeout_s, a.keepalive_s) == (90, 20)
    assert (b.idle_timeout_s, b.keepalive_s) == (120, 20)
    pa, pb = device_set.get("printer-a"), device_set.get("printer-b")
    assert isinstance(pa, PrinterProfile) and isinstance(pb, PrinterProfile)
    assert pa.connection == NetworkConnection(type="network", host="10.1.1.9", port=9101)
    # nested mappings merge key by key: the device changes the host and keeps the default port
    assert pb.connection == NetworkConnection(type="network", host="10.1.1.10", port=9101)
    assert pb.paper_width_mm == 58


def test_unknown_field_names_file_device_and_field(tmp_path: Path, raw: dict[str, Any]) -> None:
    _entry(raw, "caller-w07")["colour"] = "red"
    path = _write(tmp_path, raw)
    with pytest.raises(DeviceProfileError) as err:
        load_devices(path)
    message = str(err.value)
    assert str(path) in message
    assert "caller-w07" in message
    assert "colour" in message


def test_unknown_default_type_is_an_error(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["defaults"]["scanner"] = {"keepalive_s": 30}
    with pytest.raises(DeviceProfileError, match=r"defaults.*scanner"):
        _load(tmp_path, raw)


def test_unknown_device_type(tmp_path: Path, raw: dict[str, Any]) -> None:
    _entry(raw, "eval-w03")["type"] = "robot"
    with pytest.raises(DeviceProfileError, match=r"devices\.yaml: 设备 eval-w03: 字段 type: 未知的设备类型 'robot'"):
        _load(tmp_path, raw)


def test_bad_printer_connection_type(tmp_path: Path, raw: dict[str, Any]) -> None:
    _entry(raw, "printer-w05")["connection"] = {"type": "bluetooth"}
    with pytest.raises(DeviceProfileError, match=r"printer-w05.*connection.*'bluetooth'"):
        _load(tmp_path, raw)


def test_printer_connection_fields_are_checked(tmp_path: Path, raw: dict[str, Any]) -> None:
    _entry(raw, "printer-w05")["connection"] = {"type": "serial", "port": "COM3"}
    with pytest.raises(DeviceProfileError, match=r"printer-w05.*connection\.serial\.port"):
        _load(tmp_path, raw)


def test_kiosk_with_missing_printer(tmp_path: Path, raw: dict[str, Any]) -> None:
    _entry(raw, "kiosk-02")["printer"] = "printer-nowhere"
    with pytest.raises(DeviceProfileError, match=r"kiosk-02.*printer-nowhere"):
        _load(tmp_path, raw)


def test_kiosk_printer_must_be_a_printer(tmp_path: Path, raw: dict[str, Any]) -> None:
    _entry(raw, "kiosk-02")["printer"] = "caller-w01"
    with pytest.raises(DeviceProfileError, match=r"kiosk-02.*caller-w01.*不是打印机"):
        _load(tmp_path, raw)


def test_window_must_exist_in_the_hall(tmp_path: Path, raw: dict[str, Any], hall: HallProfile) -> None:
    _entry(raw, "display-w04")["window"] = "w99"
    assert _load(tmp_path, raw).get("display-w04")  # without the hall there is nothing to check against
    with pytest.raises(DeviceProfileError, match=r"devices\.yaml.*display-w04.*window.*w99"):
        _load(tmp_path, raw, hall)


def test_duplicate_device_ids(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["devices"].append({**_entry(raw, "caller-w02"), "name": "2号窗口备用叫号"})
    with pytest.raises(DeviceProfileError, match=r"设备编号重复.*caller-w02"):
        _load(tmp_path, raw)


def test_invalid_device_id(tmp_path: Path, raw: dict[str, Any]) -> None:
    _entry(raw, "kiosk-03")["id"] = "Kiosk 3"
    with pytest.raises(DeviceProfileError, match=r"Kiosk 3.*id"):
        _load(tmp_path, raw)


def test_file_from_a_newer_version_is_refused(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["version"] = devices.DEVICES_VERSION + 1
    with pytest.raises(DeviceProfileError, match=r"devices\.yaml: 设备配置版本 2 比本程序支持的版本 1 新"):
        _load(tmp_path, raw)


def test_the_server_account_name_is_reserved(tmp_path: Path, raw: dict[str, Any]) -> None:
    _entry(raw, "caller-w03")["id"] = "hallserver"
    with pytest.raises(DeviceProfileError, match="hallserver 保留给大厅服务器"):
        _load(tmp_path, raw)


def _rename_screen(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 → 2 of an imagined history: kiosks said `screen` before it became `orientation`."""
    for entry in data["devices"]:
        if "screen" in entry:
            entry["orientation"] = entry.pop("screen")
    return data


def _raise_keepalive(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 → 3: keepalive below 20 s was allowed once."""
    for entry in data["devices"]:
        entry["keepalive_s"] = max(entry.get("keepalive_s", 30), 20)
    return data


def test_registered_migrations_upgrade_a_version_1_file_step_by_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(devices, "DEVICES_VERSION", 3)
    monkeypatch.setattr(devices, "MIGRATIONS", {1: _rename_screen, 2: _raise_keepalive})
    old = {
        "version": 1,
        "devices": [{"id": "kiosk-a", "type": "kiosk", "name": "自助机甲", "screen": "landscape", "keepalive_s": 10}],
    }
    upgraded = migrate(old)
    assert upgraded["version"] == 3
    assert upgraded["devices"] == [
        {"id": "kiosk-a", "type": "kiosk", "name": "自助机甲", "orientation": "landscape", "keepalive_s": 20}
    ]
    # the migrated entry is a valid current profile
    kiosk = TypeAdapter(DeviceProfile).validate_python(upgraded["devices"][0])
    assert isinstance(kiosk, KioskProfile) and kiosk.orientation == "landscape"


def test_a_missing_migration_step_is_an_error(
    tmp_path: Path, raw: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(devices, "DEVICES_VERSION", 3)
    monkeypatch.setattr(devices, "MIGRATIONS", {1: _rename_screen})
    with pytest.raises(DeviceProfileError, match="没有从版本 2 升级的迁移"):
        _load(tmp_path, raw)


def test_without_migrations_an_old_file_is_refused(
    tmp_path: Path, raw: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(devices, "DEVICES_VERSION", 2)
    monkeypatch.setattr(devices, "MIGRATIONS", {})
    with pytest.raises(DeviceProfileError, match="没有从版本 1 升级的迁移"):
        _load(tmp_path, raw)
