"""request log keyed per device (contract v2: idempotency per device and request_id)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hallserver.models

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _create(primary_key: tuple[str, ...]) -> None:
    op.create_table('request_log',
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=41), nullable=False),
    sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('received_at', hallserver.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reply', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint(*primary_key)
    )
    with op.batch_alter_table('request_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_log_received_at'), ['received_at'], unique=False)


def _drop() -> None:
    with op.batch_alter_table('request_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_log_received_at'))
    op.drop_table('request_log')


def upgrade() -> None:
    # The log only answers retries of the last two days: v1 rows, keyed by request_id alone, are let go.
    _drop()
    _create(('device_id', 'request_id'))


def downgrade() -> None:
    _drop()
    _create(('request_id',))
