"""Device apps of the demo hall against the `bus` fixture: displays and evaluators with the demo hall's
profiles, their own broker logins, and the bus's manual clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from broker.client import BusSettings
from kiosk.display.hallinfo import HallInfo
from kiosk.display.service import DisplayService
from kiosk.voice.announcer import Announcer
from kiosk.voice.player import SilentPlayer
from kiosk.voice.tts import SpeechRenderer
from tests.gateway.fixtures import Bus
from tests.integration.helpers import id_number


def device_bus(bus: Bus, device_id: str) -> BusSettings:
    """The broker login of a demo device."""
    return bus.broker.bus_settings(device_id)


def start_display(bus: Bus, device_id: str, voice_dir: Path | None = None, **changes: Any) -> DisplayService:
    """A connected display service; with voice_dir, its calls are rendered there (no loudspeaker)."""
    profile = bus.devices.get(device_id).model_copy(update=changes)
    announcer = Announcer(SpeechRenderer(voice_dir), SilentPlayer("测试机没有扬声器")) if voice_dir else None
    service = DisplayService(
        profile,  # type: ignore[arg-type]
        device_bus(bus, device_id),
        HallInfo.from_profile(bus.hall, bus.devices),
        announcer,
        clock=bus.clock.now,
    )
    service.start(wait_s=5)
    assert service.bus.wait_connected(5), f"{device_id} could not connect"
    return service


def issue(bus: Bus, group: str = "police", seed: int = 1) -> str:
    """Take a ticket over the REST API; its number."""
    body: dict[str, Any] = {"group": group}
    if group != "consult":
        body["identity"] = {"method": "id_card", "id_number": id_number(seed), "name": "张小三"}
    response = bus.http.post("/api/v1/tickets", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["ticket"])


def serve(bus: Bus, window: str, outcome: str = "咨询") -> None:
    """Call the next ticket to a window, serve it and finish the visit (the evaluator gets a prompt)."""
    for step, body in (("call-next", None), ("start", None), ("finish", {"outcome": outcome})):
        response = bus.http.post(f"/api/v1/windows/{window}/{step}", json=body)
        assert response.status_code == 200, (step, response.text)
