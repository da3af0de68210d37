"""ticket appointment line: a group's waiting appointments of a day in slot order (call next, fair policy)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        # The earliest-slot appointment of a group's waiting line (candidates.py): read in slot order from the
        # index, never sorted from every waiting ticket of the group.
        batch_op.create_index(
            "ix_ticket_appointment_line", ["service_date", "group_code", "state", "appointment_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_appointment_line")
