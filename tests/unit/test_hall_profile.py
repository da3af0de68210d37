"""The hall profile schema: the demo hall loads; broken profiles fail naming file and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from firmware_config.hall import HallProfile, ProfileError, WindowKind, load_hall_profile
from tests.conftest import DEMO_HALL


@pytest.fixture
def raw() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEMO_HALL / "hall.yaml").read_text(encoding="utf-8"))
    return data


def test_demo_hall_is_realistic() -> None:
    profile = load_hall_profile(DEMO_HALL / "hall.yaml")
    assert len(profile.windows) >= 20
    assert len(profile.groups) >= 6
    assert {w.kind for w in profile.windows} >= {
        WindowKind.universal,
        WindowKind.domain,
        WindowKind.consulting,
        WindowKind.assisted,
        WindowKind.complaint,
        WindowKind.green,
    }
    assert all(w.staff.b for w in profile.windows), "every window has a B role (AB角)"
    assert profile.hours.zone.key == "Asia/Shanghai"


def _load(tmp_path: Path, data: dict[str, Any]) -> HallProfile:
    path = tmp_path / "hall.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_hall_profile(path)


def test_unknown_group_reference(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["windows"][0]["groups"] = ["nosuch"]
    with pytest.raises(ProfileError, match=r"hall\.yaml.*w01.*nosuch"):
        _load(tmp_path, raw)


def test_group_no_window_serves(tmp_path: Path, raw: dict[str, Any]) -> None:
    for w in raw["windows"]:
        w["groups"] = [g for g in w["groups"] if g != "complaint"] or ["consult"]
    with pytest.raises(ProfileError, match=r"complaint.*没有任何窗口办理"):
        _load(tmp_path, raw)


def test_prefix_clash_with_appointment_series(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["groups"][0]["prefix"] = "Y"
    with pytest.raises(ProfileError, match="号码前缀重复"):
        _load(tmp_path, raw)


def test_unknown_field_is_an_error(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["windows"][2]["colour"] = "red"
    with pytest.raises(ProfileError, match=r"windows\.2\.colour"):
        _load(tmp_path, raw)


def test_unquoted_time_is_refused_not_misread(tmp_path: Path) -> None:
    text = (DEMO_HALL / "hall.yaml").read_text(encoding="utf-8").replace("end: '18:00'", "end: 18:00", 1)
    path = tmp_path / "hall.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError, match="时间须加引号"):
        load_hall_profile(path)


def test_overlapping_sessions(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["hours"]["weekday"] = [{"start": "09:00", "end": "12:30"}, {"start": "12:00", "end": "17:00"}]
    with pytest.raises(ProfileError, match="不得重叠"):
        _load(tmp_path, raw)


def test_same_person_as_a_and_b(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["windows"][0]["staff"]["b"] = raw["windows"][0]["staff"]["a"]
    with pytest.raises(ProfileError, match="A角与B角不能是同一人"):
        _load(tmp_path, raw)


def test_domain_in_two_groups(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["groups"][1]["domains"].append(raw["groups"][0]["domains"][0])
    with pytest.raises(ProfileError, match="一个领域只能属于一个队列"):
        _load(tmp_path, raw)


def test_bad_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "hall.yaml"
    path.write_text("hall: [unclosed", encoding="utf-8")
    with pytest.raises(ProfileError, match=str(path)):
        load_hall_profile(path)
