"""绿色通道 staff confirmation on the bus (extension of contract v2). green.request: a kiosk read an ID card and
asks for a green-channel ticket for a reason only staff can check; the request (with the card's identity,
server-side only) waits in the GreenDesk and an assist request tells the staff on duty. A staff member's
confirm issues the L ticket for that citizen on that kiosk's printer and sends it to the kiosk as a `notice`
(green_confirmed, with the ticket in `data`); a decline sends green_declined. green.cancel: the citizen
withdrew at the kiosk, the request leaves the staff's list. The kiosk is the topic's device, never a payload
field."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlmodel import Session

from broker.client import BusClient
from broker.messages import DeviceNotice, GreenCancel, GreenRequest
from broker.topics import Topics
from firmware_config.devices import DeviceProfile, DeviceSet
from hallcore.commands import IssueTicket, Priority
from hallcore.errors import HallError
from hallserver.db import session_scope
from hallserver.events import Effects, Publisher
from hallserver.services import tickets
from hallserver.services.assist import AssistDesk
from hallserver.services.context import HallContext
from hallserver.services.green_requests import GreenDesk
from hallserver.services.green_requests import GreenRequest as GreenRequestPending
from hallserver.views.tickets import TicketIssued

log = logging.getLogger("hallq.green")
Result = tuple[dict[str, Any], Effects]
CANCELLED_BY = "群众已取消"  # who "answered" the 呼叫 alert of a request the citizen withdrew
DECLINED = "工作人员核实后，您暂不符合绿色通道条件。您可以普通取号，或到绿色通道窗口咨询"


class Handlers(Protocol):
    """What these handlers need of hallserver.gateway.handlers.Handlers (not imported: no cycle)."""

    ctx: HallContext
    assist: AssistDesk
    green: GreenDesk

    def _print_ticket(
        self, device: DeviceProfile, issued: tickets.IssuedTicket, effects: Effects
    ) -> tuple[str | None, str | None]: ...


def green_handlers(h: Handlers) -> dict[str, Callable[[Session, DeviceProfile, Any], Result]]:
    """The table entries of green.request and green.cancel."""
    return {
        "green.request": lambda session, device, req: _request(h, device, req),
        "green.cancel": lambda session, device, req: _cancel(h, device, req),
    }


def _request(h: Handlers, device: DeviceProfile, req: GreenRequest) -> Result:
    now = h.ctx.now()
    call = h.assist.record(
        device.id, device.name, device.location, now, reason=f"绿色通道核实：{req.reason}", screen="green",
        elderly=True,
    )  # fmt: skip
    pending = h.green.add(device.id, device.name, device.location, req.reason, req.identity, now, call.id)
    data = {
        "green_id": pending.id,
        "assist_id": call.id,
        "expires_at": pending.expires_at().astimezone(h.ctx.calendar.zone).isoformat(),
        "message": "已通知工作人员，请在原地稍候",
    }
    return data, Effects()


def _cancel(h: Handlers, device: DeviceProfile, req: GreenCancel) -> Result:
    """The citizen withdrew (取消, 首页, card taken away): the request and its 呼叫 alert leave the floor. A
    request already answered or expired is no error: the kiosk simply stops waiting."""
    request = h.green.cancel(req.green_id, device.id)
    if request is not None and request.assist_id is not None:
        h.assist.acknowledge(request.assist_id, CANCELLED_BY)
    if request is not None:
        log.info("green: request %s cancelled at %s", request.id, device.id)
    # Empty effects still reach the live floor: its alerts (and so the green panel) refresh.
    return {"cancelled": request is not None, "message": "已取消绿色通道请求"}, Effects()


class GreenCounter:
    """The gateway's staff side of green.request (a part of Gateway, kept in its own file)."""

    ctx: HallContext
    engine: Engine
    devices: DeviceSet
    handlers: Any  # hallserver.gateway.handlers.Handlers
    publisher: Publisher
    client: BusClient
    topics: Topics

    @property
    def green(self) -> GreenDesk:
        """The pending green-channel requests."""
        desk: GreenDesk = self.handlers.green
        return desk

    def green_confirm(self, request_id: int, staff: str, group: str | None = None) -> dict[str, Any]:
        """Issue the green ticket for the citizen waiting at the request's kiosk and send it there."""
        now = self.ctx.now()
        request = self.green.take(request_id, now)
        device = next((d for d in self.devices.devices if d.id == request.device_id), None)
        if device is None:
            raise HallError("not_found", "发起请求的自助机已不在本大厅的设备清单中")
        command = IssueTicket(
            group=group or self._green_group(),
            identity=request.identity,
            priority=Priority.green,
            priority_reason=request.reason,
            channel="kiosk",
        )
        effects = Effects(queue=True)
        try:
            with session_scope(self.engine) as s:
                issued = tickets.issue_ticket(s, self.ctx, command)
                reply = TicketIssued.of(issued, self.ctx, self.base_url)
                reply.print_job_id, reply.print_error = self.handlers._print_ticket(device, issued, effects)
                data = reply.model_dump(mode="json")
        except HallError:
            self.green.put_back(request)
            raise
        self._answered(request, staff)
        self.publisher.changed(effects)  # the slip, the queue and the alerts go out on the gateway's worker
        message = f"工作人员已核实，您的绿色通道号码是 {data['ticket']}"
        self._tell(request.device_id, "green_confirmed", message, request.id, now, data=data, ticket=data["ticket"])
        log.info("green: request %s confirmed, ticket %s on %s", request.id, data["ticket"], request.device_id)
        return data

    def green_decline(self, request_id: int, staff: str) -> None:
        """Tell the kiosk that staff did not confirm the reason (it offers a normal ticket)."""
        now = self.ctx.now()
        request = self.green.take(request_id, now)
        self._answered(request, staff)
        self.publisher.changed(Effects())  # the floor's alerts
        self._tell(request.device_id, "green_declined", DECLINED, request.id, now)
        log.info("green: request %s declined on %s", request.id, request.device_id)

    base_url: str

    def _answered(self, request: GreenRequestPending, staff: str) -> None:
        if request.assist_id is not None:  # the floor's 呼叫 alert is dealt with
            self.handlers.assist.acknowledge(request.assist_id, staff)

    def _green_group(self) -> str:
        profile = self.ctx.profile
        window = next((w for w in profile.windows if w.kind.value == "绿色通道"), None)
        return window.groups[0] if window is not None else profile.groups[0].code

    def _tell(self, device_id: str, kind: str, message: str, green_id: int, now: datetime, **extra: Any) -> None:
        notice = DeviceNotice(ts=now, type=kind, message=message, green_id=green_id, **extra)
        self.client.publish(self.topics.device(device_id, "notice"), notice)
