"""Notification tables: citizens' contacts (phone as keyed hash + ciphertext), what each contact is subscribed
to, the outbox of messages (nothing lost, nothing sent twice) and the delivery log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from hallserver.models.columns import UTCDateTime, utc_field


class OutboxState(StrEnum):
    """Where a message stands. queued → sending → sent → delivered; or failed / expired / cancelled."""

    queued = "queued"
    sending = "sending"  # claimed by a sender; back to queued if the sender died before an answer
    sent = "sent"  # the SMSC or the gateway accepted it
    delivered = "delivered"  # a delivery receipt said so
    failed = "failed"  # refused for good (bad number, too many attempts)
    expired = "expired"  # too late to be useful (e.g. a near-turn message after the call)
    cancelled = "cancelled"  # the citizen opted out before it went


OPEN_STATES = (OutboxState.queued, OutboxState.sending)


class Contact(SQLModel, table=True):
    """A phone number a citizen gave with consent. Only its keyed hash, its masked form and its ciphertext
    (AES-GCM bound to the hash) are stored."""

    __tablename__ = "notify_contact"

    id: int | None = Field(default=None, primary_key=True)
    phone_hash: str = Field(max_length=64, unique=True, index=True)
    masked_phone: str = Field(max_length=11)
    key_id: str = Field(max_length=16)
    phone_cipher: str = Field(sa_type=sa.Text)
    identity_hash: str | None = Field(default=None, max_length=64, index=True, description="The person, if known")
    channel: str = Field(default="sms", max_length=8, description="sms | webhook")
    consent_at: datetime | None = utc_field()
    consent_channel: str | None = Field(default=None, max_length=12, description="kiosk | window | phone")
    consent_by: str | None = Field(default=None, max_length=41, description="Device id or staff username")
    opted_out_at: datetime | None = utc_field()
    opt_out_channel: str | None = Field(default=None, max_length=12)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class Subscription(SQLModel, table=True):
    """What a contact wants to hear about: `ticket:<id>`, `booking:<id>`, `visit:<id>`, `case:<serial>`."""

    __tablename__ = "notify_subscription"
    __table_args__ = (sa.UniqueConstraint("subject", "contact_id", name="uq_notify_subscription"),)

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(max_length=100, index=True)
    contact_id: int = Field(foreign_key="notify_contact.id", index=True)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class OutboxMessage(SQLModel, table=True):
    """One message to one contact. `dedup_key` is unique: enqueueing the same event twice is a no-op, and a
    sender claims a row by moving it from queued to sending in one conditional update."""

    __tablename__ = "notify_outbox"
    __table_args__ = (
        sa.Index("ix_notify_outbox_due", "state", "next_try_at"),
        sa.Index("ix_notify_outbox_contact_sent", "contact_id", "sent_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(max_length=160, unique=True)
    contact_id: int = Field(foreign_key="notify_contact.id")
    channel: str = Field(max_length=8)
    template: str = Field(max_length=32)
    params: str = Field(sa_type=sa.Text, description="JSON template parameters, no plaintext personal data")
    state: str = Field(default=OutboxState.queued, max_length=10)
    attempts: int = 0
    next_try_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    expires_at: datetime | None = utc_field()
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    claimed_at: datetime | None = utc_field()
    sent_at: datetime | None = utc_field()
    delivered_at: datetime | None = utc_field()
    message_id: str | None = Field(default=None, max_length=65, index=True, description="The SMSC's id")
    last_error: str | None = Field(default=None, max_length=60, description="An English code, never a number")


class DeliveryLog(SQLModel, table=True):
    """Everything that happened to a message: submitted, throttled, refused, down, receipt, expired …"""

    __tablename__ = "notify_delivery"

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int = Field(foreign_key="notify_outbox.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    event: str = Field(max_length=16)
    detail: str | None = Field(default=None, max_length=120)
    message_id: str | None = Field(default=None, max_length=65, index=True)
