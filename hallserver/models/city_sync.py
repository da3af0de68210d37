"""The city link's outbox (PROTOCOL.md "The city link"): records written in the same transaction as the
change they record, numbered gaplessly by the one counter row of `sync_state`, pruned when the city acks."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from hallserver.models.columns import UTCDateTime, utc_field


class SyncOutbox(SQLModel, table=True):
    """One record waiting for the city's acknowledgement; `seq` is the hall's gapless sequence."""

    __tablename__ = "sync_outbox"

    seq: int = Field(sa_column=sa.Column(sa.BigInteger(), primary_key=True, autoincrement=False))
    stream: str = Field(max_length=24)
    kind: str = Field(max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    record: str = Field(sa_type=sa.Text, description="The record as JSON (no plaintext personal data)")
    sent_at: datetime | None = utc_field(index=True)
    attempts: int = 0


class SyncState(SQLModel, table=True):
    """The hall's one counter row: the last seq taken, and what the city last acknowledged."""

    __tablename__ = "sync_state"

    id: int = Field(default=1, primary_key=True)
    last_seq: int = Field(default=0, sa_column=sa.Column(sa.BigInteger(), nullable=False, server_default="0"))
    acked_upto: int = Field(default=0, sa_column=sa.Column(sa.BigInteger(), nullable=False, server_default="0"))
    acked_at: datetime | None = utc_field()
