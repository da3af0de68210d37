"""complaints: the complaints and 办不成事 ledger (name/phone as hash + mask + ciphertext) and its steps

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hallserver.models

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = hallserver.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "complaint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", _S(length=16), nullable=False),
        sa.Column("kind", _S(length=10), nullable=False),
        sa.Column("channel", _S(length=8), nullable=False),
        sa.Column("received_at", _T(timezone=True), nullable=False),
        sa.Column("received_by", _S(length=41), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("item_code", _S(length=40), nullable=True),
        sa.Column("key_id", _S(length=16), nullable=True),
        sa.Column("name_masked", _S(length=30), nullable=True),
        sa.Column("name_cipher", sa.Text(), nullable=True),
        sa.Column("phone_hash", _S(length=64), nullable=True),
        sa.Column("phone_masked", _S(length=11), nullable=True),
        sa.Column("phone_cipher", sa.Text(), nullable=True),
        sa.Column("written_reply", sa.Boolean(), nullable=False),
        sa.Column("state", _S(length=10), nullable=False),
        sa.Column("in_remit", sa.Boolean(), nullable=True),
        sa.Column("department", _S(length=60), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("assignee", _S(length=60), nullable=True),
        sa.Column("assigned_at", _T(timezone=True), nullable=True),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("answered_at", _T(timezone=True), nullable=True),
        sa.Column("answered_by", _S(length=41), nullable=True),
        sa.Column("closed_at", _T(timezone=True), nullable=True),
        sa.Column("feedback", _S(length=12), nullable=True),
        sa.Column("feedback_comment", _S(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.create_index("ix_complaint_state_due", ["state", "due_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaint_received_at"), ["received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaint_phone_hash"), ["phone_hash"], unique=False)

    op.create_table(
        "complaint_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("at", _T(timezone=True), nullable=False),
        sa.Column("actor", _S(length=41), nullable=False),
        sa.Column("action", _S(length=12), nullable=False),
        sa.Column("note", _S(length=1000), nullable=True),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaint.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("complaint_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaint_event_complaint_id"), ["complaint_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("complaint_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_event_complaint_id"))
    op.drop_table("complaint_event")
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_phone_hash"))
        batch_op.drop_index(batch_op.f("ix_complaint_received_at"))
        batch_op.drop_index("ix_complaint_state_due")
    op.drop_table("complaint")
