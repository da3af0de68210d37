"""notifications: contacts (phone as keyed hash + ciphertext, consent, opt-out), subscriptions, the outbox
and the delivery log

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hallserver.models

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('notify_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('masked_phone', sqlmodel.sql.sqltypes.AutoString(length=11), nullable=False),
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('phone_cipher', sa.Text(), nullable=False),
    sa.Column('identity_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('consent_at', hallserver.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('consent_channel', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
    sa.Column('consent_by', sqlmodel.sql.sqltypes.AutoString(length=41), nullable=True),
    sa.Column('opted_out_at', hallserver.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('opt_out_channel', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
    sa.Column('created_at', hallserver.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', hallserver.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('notify_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notify_contact_phone_hash'), ['phone_hash'], unique=True)
        batch_op.create_index(batch_op.f('ix_notify_contact_identity_hash'), ['identity_hash'], unique=False)

    op.create_table('notify_subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('created_at', hallserver.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['notify_contact.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('subject', 'contact_id', name='uq_notify_subscription')
    )
    with op.batch_alter_table('notify_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notify_subscription_subject'), ['subject'], unique=False)
        batch_op.create_index(batch_op.f('ix_notify_subscription_contact_id'), ['contact_id'], unique=False)

    op.create_table('notify_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedup_key', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('template', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('params', sa.Text(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_try_at', hallserver.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', hallserver.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', hallserver.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', hallserver.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', hallserver.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', hallserver.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=65), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['notify_contact.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedup_key')
    )
    with op.batch_alter_table('notify_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_notify_outbox_due', ['state', 'next_try_at'], unique=False)
        batch_op.create_index('ix_notify_outbox_contact_sent', ['contact_id', 'sent_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notify_outbox_message_id'), ['message_id'], unique=False)

    op.create_table('notify_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=False),
    sa.Column('at', hallserver.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('event', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=65), nullable=True),
    sa.ForeignKeyConstraint(['outbox_id'], ['notify_outbox.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('notify_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notify_delivery_outbox_id'), ['outbox_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notify_delivery_message_id'), ['message_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notify_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notify_delivery_message_id'))
        batch_op.drop_index(batch_op.f('ix_notify_delivery_outbox_id'))
    op.drop_table('notify_delivery')
    with op.batch_alter_table('notify_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notify_outbox_message_id'))
        batch_op.drop_index('ix_notify_outbox_contact_sent')
        batch_op.drop_index('ix_notify_outbox_due')
    op.drop_table('notify_outbox')
    with op.batch_alter_table('notify_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notify_subscription_contact_id'))
        batch_op.drop_index(batch_op.f('ix_notify_subscription_subject'))
    op.drop_table('notify_subscription')
    with op.batch_alter_table('notify_contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notify_contact_identity_hash'))
        batch_op.drop_index(batch_op.f('ix_notify_contact_phone_hash'))
    op.drop_table('notify_contact')
