"""Tables of access: staff credentials and bearer tokens, the audit of personal-data reads, and the log that
makes bus requests idempotent."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from hallserver.models.columns import UTCDateTime, utc_field


class AuditEntry(SQLModel, table=True):
    """Every staff read of decrypted personal data: who, whose, why, when."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    actor: str = Field(max_length=40)
    action: str = Field(max_length=30)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    purpose: str = Field(max_length=200)


class Credential(SQLModel, table=True):
    """A staff member's password (scrypt hash); the username is the staff id from the hall profile."""

    __tablename__ = "credential"

    username: str = Field(primary_key=True, max_length=32)
    password_hash: str = Field(max_length=200)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class AuthToken(SQLModel, table=True):
    """A bearer token, stored only as its SHA-256: a login session, or a device's long-lived token."""

    __tablename__ = "auth_token"

    token_hash: str = Field(primary_key=True, max_length=64)
    username: str = Field(max_length=41, index=True)
    kind: str = Field(max_length=8, description="session | device")
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    expires_at: datetime | None = utc_field()
    revoked: bool = False


class RequestLog(SQLModel, table=True):
    """Every bus request answered, with its reply: a retried request_id gets the first answer again.
    Idempotency is per device (contract v2): the same request_id from another device is another request."""

    __tablename__ = "request_log"

    device_id: str = Field(primary_key=True, max_length=41)
    request_id: str = Field(primary_key=True, max_length=64)
    action: str = Field(max_length=40)
    received_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    reply: str = Field(sa_type=sa.Text, nullable=False)
