"""Bus handlers of the kiosk's booking actions (contract v2.1): appointment.slots lists the days an item can be
booked for and one day's slots with free seats; appointment.book books one for the person whose ID card the
kiosk read and prints the 预约凭条 on the kiosk's printer. The booking service decides; this translates."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any, Protocol

from sqlmodel import Session

from broker.messages import AppointmentBook, AppointmentSlots
from firmware_config.devices import DeviceProfile
from hallcore import links
from hallserver.events import Effects, PrintOrder
from hallserver.services import appointments
from hallserver.services.context import HallContext
from hallserver.views.appointments import BookingOut

Result = tuple[dict[str, Any], Effects]


class Handlers(Protocol):
    """What these handlers use of hallserver.gateway.handlers.Handlers (which registers them)."""

    ctx: HallContext
    base_url: str

    def printer_problem(self, printer: str) -> str | None: ...


def booking_handlers(h: Handlers) -> dict[str, Callable[[Session, DeviceProfile, Any], Result]]:
    """The table entries of the booking actions."""
    return {"appointment.slots": partial(_slots, h), "appointment.book": partial(_book, h)}


def _slots(h: Handlers, session: Session, device: DeviceProfile, req: AppointmentSlots) -> Result:
    ctx = h.ctx
    item = appointments.bookable_item(ctx, req.item_code)
    first, last = appointments.booking_window(ctx, item)
    days = []
    chosen: list[appointments.SlotView] | None = None
    picked = req.day or first
    day = first
    while day <= last:
        found = appointments.slots_for(session, ctx, req.item_code, day)
        free = sum(v.free for v in found)
        if found:
            days.append({"date": day.isoformat(), "free": free})
        if (req.day == day) or (req.day is None and chosen is None and free > 0):
            chosen, picked = found, day
        day += timedelta(days=1)
    rows = [{"start": v.start.isoformat(), "end": v.end.isoformat(), "free": v.free} for v in chosen or []]
    data = {
        "item_code": item.code,
        "item_name": item.name,
        "date": picked.isoformat(),
        "bookable_until": last.isoformat(),
        "days": days,
        "slots": rows,
    }
    return data, Effects()


def _book(h: Handlers, session: Session, device: DeviceProfile, req: AppointmentBook) -> Result:
    ctx = h.ctx
    ident = req.identity
    booking = appointments.book(session, ctx, req.item_code, req.slot_start, ident.id_number, ident.name)
    out = BookingOut.of(booking, ctx).model_dump(mode="json")
    effects = Effects()
    out["print_job_id"], out["print_error"] = None, None
    printer = device.printer if device.type == "kiosk" else None
    if printer is None:
        out["print_error"] = "本机没有打印机，请记下屏幕上的预约码"
        return out, effects
    problem = h.printer_problem(printer)
    if problem is not None:
        out["print_error"] = problem.replace("凭屏幕上的号码等候叫号", "请记下屏幕上的预约码")
        return out, effects
    job_id = str(uuid.uuid4())
    document = {
        "hall_name": ctx.profile.hall.name,
        "code": out["code"],
        "item_name": out["item_name"],
        "slot_start": out["slot_start"],
        "slot_end": out["slot_end"],
        "checkin_from": out["checkin_from"],
        "checkin_until": out["checkin_until"],
        "masked_name": out["masked_name"],
        "qr": links.absolute(h.base_url, links.guide_path(req.item_code)),
        "notice": "请按时携带身份证到大厅自助机或咨询台签到",
    }
    effects.prints.append(PrintOrder(printer, job_id, "booking", document, origin=device.id))
    out["print_job_id"] = job_id
    return out, effects
