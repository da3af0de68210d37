"""The bus as the rest of the server sees it: which devices are online, what the displays show, whether a
printer can print, the help requests from kiosks. The gateway provides it; REST routes and the live floor
depend on this protocol, never on the gateway (no adapter imports another)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from firmware_config.devices import DeviceSet
from hallserver.services.assist import AssistDesk
from hallserver.services.green_requests import GreenDesk


@dataclass
class DeviceSeen:
    """What the server knows of a device from the bus."""

    online: bool = False
    since: datetime | None = None
    version: str | None = None
    status: dict[str, Any] = field(default_factory=dict)


class BusView(Protocol):
    """What REST routes and the live floor may ask of the bus."""

    devices: DeviceSet
    seen: dict[str, DeviceSeen]
    notice: str | None
    base_url: str

    @property
    def assist(self) -> AssistDesk:
        """呼叫工作人员 requests from kiosks."""
        ...

    @property
    def green(self) -> GreenDesk:
        """绿色通道 requests waiting for staff (hallserver/gateway/green.py)."""
        ...

    def green_confirm(self, request_id: int, staff: str, group: str | None = None) -> dict[str, Any]:
        """Issue the green ticket for the kiosk's citizen and send it to the kiosk."""
        ...

    def green_decline(self, request_id: int, staff: str) -> None:
        """Tell the kiosk staff did not confirm the reason."""
        ...

    def printer_problem(self, printer: str) -> str | None:
        """Why a printer cannot print right now (None: it can)."""
        ...

    def broadcast(self, message: str | None) -> int:
        """Show a notice on every display (None clears it); how many displays."""
        ...
