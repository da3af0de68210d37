"""Bookable slots: which items can be booked, how far ahead, and each day's slots from the hall calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from hallcore.catalog.schema import Item
from hallcore.errors import HallError
from hallserver.models import AppointmentSlot
from hallserver.services.context import HallContext


@dataclass(frozen=True)
class SlotView:
    """A bookable slot of one item with its free seats; times in the hall's zone."""

    start: datetime
    end: datetime
    capacity: int
    booked: int

    @property
    def free(self) -> int:
        """Seats still free."""
        return max(self.capacity - self.booked, 0)


def bookable_item(ctx: HallContext, item_code: str) -> Item:
    """The catalog item if it can be booked in this hall; unknown_item or not_bookable otherwise."""
    item = ctx.catalog.items.get(item_code)
    if item is None:
        if item_code in ctx.catalog.bundles:
            raise HallError(
                "not_bookable",
                f"“{ctx.entry_name(item_code)}”是一件事套餐，请到大厅取号办理",
                item_code=item_code,
            )
        raise HallError("unknown_item", f"事项编码 {item_code} 不在本大厅的事项目录中", item_code=item_code)
    if not item.appointment.supported:
        raise HallError("not_bookable", f"“{item.name}”不支持预约，请到大厅取号办理", item_code=item_code)
    ctx.group_for_entry(item_code)  # some queue must serve it
    return item


def booking_window(ctx: HallContext, item: Item) -> tuple[date, date]:
    """First and last local dates the item can be booked for, from today."""
    today = ctx.today()
    ahead = min(ctx.profile.appointments.days_ahead, item.appointment.days_ahead)
    return today, today + timedelta(days=ahead)


def slot_times(ctx: HallContext, day: date) -> list[tuple[datetime, datetime]]:
    """The day's slots: each opening period, widened by 早晚弹性办, cut into slot_minutes pieces."""
    length = timedelta(minutes=ctx.profile.appointments.slot_minutes)
    result = []
    for start, end in ctx.calendar.periods(day, ctx.profile.hours.appointment_flex_minutes):
        t = start
        while t + length <= end:
            result.append((t, t + length))
            t += length
    return result


def slots_for(session: Session, ctx: HallContext, item_code: str, day: date) -> list[SlotView]:
    """Slots of an item still to come on a day, with free seats; empty outside the booking window."""
    item = bookable_item(ctx, item_code)
    first, last = booking_window(ctx, item)
    if not first <= day <= last:
        return []
    rows = session.exec(
        select(AppointmentSlot).where(AppointmentSlot.item_code == item_code, AppointmentSlot.service_date == day)
    ).all()
    by_start = {row.start: row for row in rows}  # aware datetimes compare and hash by instant
    default = ctx.profile.appointments.capacity_per_slot
    now = ctx.now()
    views = []
    for start, end in slot_times(ctx, day):
        if start <= now:
            continue
        row = by_start.get(start)
        views.append(SlotView(start, end, row.capacity if row else default, row.booked if row else 0))
    return views
