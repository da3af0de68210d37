"""ticket lookup indexes: a person's tickets of a day (real-name limits) and a group's waiting line in order

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        # The daily cap and the one-waiting-per-group check: one person's tickets of one day, no day scan.
        batch_op.create_index('ix_ticket_person_day', ['identity_hash', 'service_date'], unique=False)
        # A group's waiting tickets of one day in queue order (call next, people ahead, rejoin).
        batch_op.create_index('ix_ticket_line', ['service_date', 'group_code', 'state', 'queue_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_line')
        batch_op.drop_index('ix_ticket_person_day')
