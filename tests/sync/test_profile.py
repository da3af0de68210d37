"""Hall identity in the profile: the city's hall code, the site kind (a 24-hour point has no windows) and the
optional `city:` section, each refused with a Chinese message when wrong."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from firmware_config.hall import HallProfile, SiteKind
from tests.bus.fixtures import DEMO_HALL

CITY = {"city": "shenzhen", "broker_host": "city.example.cn", "bridge_username": "bridge-0001"}


def _demo(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load((DEMO_HALL / "hall.yaml").read_text(encoding="utf-8"))
    for key, value in changes.items():
        if key.startswith("hall_"):
            raw["hall"][key.removeprefix("hall_")] = value
        else:
            raw[key] = value
    return raw


def test_the_demo_hall_has_a_code_and_no_city_link() -> None:
    profile = HallProfile.model_validate(_demo())
    assert profile.hall.code == "0001" and profile.hall.site_kind == SiteKind.hall and profile.city is None


def test_a_city_link_needs_a_hall_code_and_defaults_to_tls() -> None:
    linked = HallProfile.model_validate(_demo(city=CITY))
    assert linked.city is not None and linked.city.tls and linked.city.broker_port == 8883
    assert linked.city.clientid == "bridge-0001"
    with pytest.raises(ValidationError, match="须先由市级分配大厅编码"):
        HallProfile.model_validate(_demo(city=CITY, hall_code=None))
    with pytest.raises(ValidationError, match="code"):
        HallProfile.model_validate(_demo(hall_code="00a1"))
    with pytest.raises(ValidationError, match="客户端证书与私钥"):
        HallProfile.model_validate(_demo(city={**CITY, "cert_file": "client.crt"}))


def test_a_self_service_point_has_no_windows_and_a_hall_needs_one() -> None:
    point = _demo(hall_site_kind="self_service_point", windows=[])
    assert HallProfile.model_validate(point).windows == ()
    with pytest.raises(ValidationError, match="至少需要一个窗口"):
        HallProfile.model_validate(_demo(windows=[]))
    with pytest.raises(ValidationError, match="不设窗口"):
        HallProfile.model_validate(_demo(hall_site_kind="self_service_point"))
