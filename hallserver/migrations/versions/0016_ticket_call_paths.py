"""ticket call paths: a group's line per kind, bookings by slot per kind, the tickets called before or redirected

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REVISIT = "call_count > 0 OR target_window_id IS NOT NULL"  # as hallserver.models.queue.REVISIT at 0016


def upgrade() -> None:
    # The first waiting ticket of each kind in queue order, one index step each (candidates.py), even when a
    # kind has nobody waiting (ix_ticket_line would walk the whole line looking for one). `id` breaks ties in
    # queue order, so PostgreSQL reads the order from the index instead of sorting the line.
    op.create_index(
        "ix_ticket_kind_line", "ticket", ["service_date", "group_code", "state", "priority", "queue_key", "id"], unique=False
    )
    # Bookings in slot order, by priority first: the earliest slot is one index step, not a sort of every
    # booking of the day (replaces ix_ticket_appointment_line of 0015).
    op.drop_index("ix_ticket_appointment_line", table_name="ticket")
    op.create_index(
        "ix_ticket_booking_line",
        "ticket",
        ["service_date", "group_code", "state", "priority", "appointment_at", "queue_key", "id"],
        unique=False,
    )
    # The waiting tickets called before or sent to a window: call next loads every such ticket of the window's groups (candidates.py): found in this index, not by
    # a walk over the day's whole waiting line.
    op.create_index(
        "ix_ticket_revisits",
        "ticket",
        ["service_date", "state"],
        unique=False,
        sqlite_where=sa.text(REVISIT),
        postgresql_where=sa.text(REVISIT),
    )


def downgrade() -> None:
    op.drop_index("ix_ticket_revisits", table_name="ticket")
    op.drop_index("ix_ticket_booking_line", table_name="ticket")
    op.create_index(
        "ix_ticket_appointment_line", "ticket", ["service_date", "group_code", "state", "appointment_at"], unique=False
    )
    op.drop_index("ix_ticket_kind_line", table_name="ticket")
