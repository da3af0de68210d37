"""ticket public token (the slip's QR code names the ticket by an unguessable token, not its id)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hallserver.models

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_token', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))

    # Tickets issued before this revision get a token too, so every row can be looked up the new way.
    conn = op.get_bind()
    ticket = sa.table('ticket', sa.column('id', sa.Integer), sa.column('public_token', sa.String))
    ids = conn.execute(sa.select(ticket.c.id).where(ticket.c.public_token.is_(None))).scalars().all()
    for ticket_id in ids:
        conn.execute(
            ticket.update().where(ticket.c.id == ticket_id).values(public_token=secrets.token_urlsafe(16))
        )

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.alter_column('public_token', existing_type=sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False)
        batch_op.create_index(batch_op.f('ix_ticket_public_token'), ['public_token'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_public_token'))
        batch_op.drop_column('public_token')
