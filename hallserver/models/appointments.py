"""Tables of appointments: slots with their booked count, bookings, and booking suspensions."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from hallserver.models.columns import UTCDateTime, utc_field


class BookingState(StrEnum):
    """Life cycle of a booking."""

    booked = "booked"
    cancelled = "cancelled"
    checked_in = "checked_in"
    no_show = "no_show"


BOOKING_STATE_LABELS = {
    BookingState.booked: "已预约",
    BookingState.cancelled: "已取消",
    BookingState.checked_in: "已签到",
    BookingState.no_show: "未到（爽约）",
}

# A person holds at most one of these per item and day (enforced by a partial unique index too).
HOLDING_STATES = (BookingState.booked, BookingState.checked_in)


class AppointmentSlot(SQLModel, table=True):
    """One bookable period of one item: created on the first booking, `booked` moved atomically."""

    __tablename__ = "appointment_slot"
    __table_args__ = (
        sa.UniqueConstraint("item_code", "start", name="uq_appointment_slot"),
        sa.Index("ix_appointment_slot_day", "item_code", "service_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_code: str = Field(max_length=64)
    service_date: date = Field(description="Local (hall) date of the slot")
    start: datetime = Field(sa_type=UTCDateTime, nullable=False)
    end: datetime = Field(sa_type=UTCDateTime, nullable=False)
    capacity: int
    booked: int = 0


class Booking(SQLModel, table=True):
    """A citizen's booking of a slot. Identity only as a keyed hash; the name only masked."""

    __tablename__ = "booking"
    __table_args__ = (
        sa.Index("ix_booking_person_day", "identity_hash", "service_date"),
        sa.Index("ix_booking_due", "state", "slot_start"),
        # One live booking per person, item and day — holds under concurrent requests too.
        sa.Index(
            "uq_booking_person_item_day",
            "identity_hash",
            "item_code",
            "service_date",
            unique=True,
            sqlite_where=sa.text("state IN ('booked', 'checked_in')"),
            postgresql_where=sa.text("state IN ('booked', 'checked_in')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=8, unique=True, description="Booking code shown to the citizen")
    slot_id: int = Field(foreign_key="appointment_slot.id", index=True)
    item_code: str = Field(max_length=64, description="Copied from the slot for the per-day checks")
    service_date: date
    slot_start: datetime = Field(sa_type=UTCDateTime, nullable=False)
    slot_end: datetime = Field(sa_type=UTCDateTime, nullable=False)
    identity_hash: str = Field(max_length=64)
    masked_name: str | None = Field(default=None, max_length=20)
    state: str = Field(default=BookingState.booked, max_length=12)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    cancelled_at: datetime | None = utc_field()
    checked_in_at: datetime | None = utc_field()
    no_show_at: datetime | None = utc_field()
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")


class BookingSuspension(SQLModel, table=True):
    """Booking refused to a person until `until`, after repeated no-shows."""

    __tablename__ = "booking_suspension"
    __table_args__ = (sa.Index("ix_booking_suspension_person", "identity_hash", "until"),)

    id: int | None = Field(default=None, primary_key=True)
    identity_hash: str = Field(max_length=64)
    since: datetime = Field(sa_type=UTCDateTime, nullable=False)
    until: datetime = Field(sa_type=UTCDateTime, nullable=False)
    reason: str = Field(max_length=200)
