"""city outbox: the city link's transactional outbox, its gapless counter row, the person's city hash

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hallserver.models

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = hallserver.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "sync_outbox",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("stream", _S(length=24), nullable=False),
        sa.Column("kind", _S(length=32), nullable=False),
        sa.Column("created_at", _T(timezone=True), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("sent_at", _T(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("sync_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_outbox_sent_at"), ["sent_at"], unique=False)
    state = op.create_table(
        "sync_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("acked_upto", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("acked_at", _T(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(state, [{"id": 1, "last_seq": 0, "acked_upto": 0}])
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("city_hash", _S(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("city_hash")
    op.drop_table("sync_state")
    with op.batch_alter_table("sync_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_outbox_sent_at"))
    op.drop_table("sync_outbox")
