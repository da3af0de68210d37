"""case life: decisions, 容缺 deadlines and warnings on cases; 补正 deadline watches; department events

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hallserver.models

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CASE_COLUMNS = ("result", "reason", "decided_at", "supplement_due", "supplied_at", "reminded_on", "warned_on")


def upgrade() -> None:
    with op.batch_alter_table("service_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("result", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch_op.add_column(
            sa.Column("decided_at", hallserver.models.columns.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("supplement_due", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("supplied_at", hallserver.models.columns.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("reminded_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("warned_on", sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f("ix_service_case_status"), ["status"], unique=False)
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.create_index("ix_visit_deadline", ["deadline", "outcome"], unique=False)
    # Cases accepted before this revision: a 容缺 case's due date is its visit's deadline.
    op.execute(
        "UPDATE service_case SET supplement_due = (SELECT visit.deadline FROM visit WHERE visit.id = "
        "service_case.visit_id AND visit.outcome = '容缺受理')"
    )
    op.create_table(
        "supplement_watch",
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("reminded_on", sa.Date(), nullable=True),
        sa.Column("lapse_outcome", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("closed_at", hallserver.models.columns.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"]),
        sa.PrimaryKeyConstraint("visit_id"),
    )
    with op.batch_alter_table("supplement_watch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supplement_watch_state"), ["state"], unique=False)
    op.create_table(
        "department_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("applied_key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("serial_no", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("received_at", hallserver.models.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("event_at", hallserver.models.columns.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("body_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("department_event", schema=None) as batch_op:
        batch_op.create_index("ix_department_event_lookup", ["department", "event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_department_event_applied_key"), ["applied_key"], unique=True)
        batch_op.create_index(batch_op.f("ix_department_event_received_at"), ["received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_department_event_serial_no"), ["serial_no"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("department_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_department_event_serial_no"))
        batch_op.drop_index(batch_op.f("ix_department_event_received_at"))
        batch_op.drop_index(batch_op.f("ix_department_event_applied_key"))
        batch_op.drop_index("ix_department_event_lookup")
    op.drop_table("department_event")
    with op.batch_alter_table("supplement_watch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supplement_watch_state"))
    op.drop_table("supplement_watch")
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_index("ix_visit_deadline")
    with op.batch_alter_table("service_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_case_status"))
        for name in reversed(_CASE_COLUMNS):
            batch_op.drop_column(name)
