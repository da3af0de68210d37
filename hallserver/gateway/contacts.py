"""Bus handler of contact.consent (notifications, extension of v2): a kiosk records the phone number a citizen
typed, with their consent, for a ticket it issued, a booking or their cases. The contacts service decides
who may attach a number to what; this translates."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from sqlmodel import Session

from broker.messages import ContactConsentRequest
from firmware_config.devices import DeviceProfile
from hallserver.events import Effects
from hallserver.services.context import HallContext
from hallserver.services.notify import contacts

Result = tuple[dict[str, Any], Effects]


def contact_handlers(ctx: HallContext) -> dict[str, Callable[[Session, DeviceProfile, Any], Result]]:
    """The table entry of contact.consent."""
    return {"contact.consent": partial(_consent, ctx)}


def _consent(ctx: HallContext, session: Session, device: DeviceProfile, req: ContactConsentRequest) -> Result:
    recorded = contacts.from_kiosk(session, ctx, req, device.id)  # the device from the topic, never the payload
    return recorded.view(), Effects()
