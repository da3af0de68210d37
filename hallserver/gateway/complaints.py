"""Bus handler of complaint.submit (extension of v2): a kiosk records a complaint or 办不成事 request the
citizen typed. The device is the topic's; the complaints service decides; this translates."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from sqlmodel import Session

from broker.messages import ComplaintSubmitRequest
from firmware_config.devices import DeviceProfile
from hallcore.complaints import ComplaintSubmit
from hallserver.events import Effects
from hallserver.services import complaints
from hallserver.services.context import HallContext

Result = tuple[dict[str, Any], Effects]


def complaint_handlers(ctx: HallContext) -> dict[str, Callable[[Session, DeviceProfile, Any], Result]]:
    """The table entry of complaint.submit."""
    return {"complaint.submit": partial(_submit, ctx)}


def _submit(ctx: HallContext, session: Session, device: DeviceProfile, req: ComplaintSubmitRequest) -> Result:
    cmd = ComplaintSubmit.model_validate(req.model_dump(include=set(ComplaintSubmit.model_fields)))
    return complaints.submit(session, ctx, cmd, channel="kiosk", by=device.id).view(), Effects()
