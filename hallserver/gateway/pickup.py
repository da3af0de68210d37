"""Bus handlers of the pickup cabinet (证照自助领取, extension of contract v2): pickup.open opens the doors
holding the 证照 of the person whose ID card the cabinet read; pickup.taken records a door closed again. The
cabinet is the topic's device (the handler gets it from the gateway), never a payload field; the service
decides, this translates."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

from sqlmodel import Session

from broker.messages import PickupDone, PickupOpen
from firmware_config.devices import DeviceProfile
from hallserver.events import Effects
from hallserver.services import pickup
from hallserver.services.context import HallContext


class Handlers(Protocol):
    """What these handlers need of hallserver.gateway.handlers.Handlers (not imported: no cycle)."""

    ctx: HallContext


Result = tuple[dict[str, Any], Effects]


def pickup_handlers(h: Handlers) -> dict[str, Callable[[Session, DeviceProfile, Any], Result]]:
    """The table entries of the cabinet's actions."""
    return {"pickup.open": partial(_open, h), "pickup.taken": partial(_taken, h)}


def _open(h: Handlers, session: Session, device: DeviceProfile, req: PickupOpen) -> Result:
    return pickup.open_for(session, h.ctx, device.id, req.identity).data(), Effects()


def _taken(h: Handlers, session: Session, device: DeviceProfile, req: PickupDone) -> Result:
    collected, serial_no = pickup.taken(session, h.ctx, device.id, req)
    return {"collected": collected, "serial_no": serial_no, "door": req.door}, Effects()
