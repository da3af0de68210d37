"""H8: monthly rollups (hall × month × department × item), kept with the daily ones, so a month report over
millions of visits reads tens of thousands of rows instead of a million.

Revision ID: c0003
Revises: c0002
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c0003"
down_revision: str | None = "c0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAIT = ("w_le_5", "w_le_10", "w_le_15", "w_le_20", "w_le_30", "w_le_45", "w_le_60", "w_le_90", "w_gt_90")
COUNTS = (*WAIT, "eval_1", "eval_2", "eval_3", "eval_4", "eval_5", "eval_bad", "rect_due", "rect_on_time",
          "cases_due", "cases_on_time")  # fmt: skip


def upgrade() -> None:
    counts = ", ".join(f"{name} integer NOT NULL DEFAULT 0" for name in COUNTS)
    op.execute(f"""
CREATE TABLE rollup_monthly (
    month date NOT NULL,
    hall varchar(4) NOT NULL,
    department text NOT NULL,
    item_code text NOT NULL,
    visits integer NOT NULL DEFAULT 0,
    wait_sum_s bigint NOT NULL DEFAULT 0,
    wait_max_s integer NOT NULL DEFAULT 0,
    {counts},
    PRIMARY KEY (month, hall, department, item_code)
);
CREATE INDEX rollup_monthly_hall_month ON rollup_monthly (hall, month);
""")
    sums = ", ".join(f"sum({c})" for c in COUNTS)
    op.execute(
        f"INSERT INTO rollup_monthly (month, hall, department, item_code, visits, wait_sum_s, wait_max_s, "
        f"{', '.join(COUNTS)}) SELECT date_trunc('month', day)::date, hall, department, item_code, sum(visits), "
        f"sum(wait_sum_s), max(wait_max_s), {sums} FROM rollup_daily GROUP BY 1, 2, 3, 4"
    )


def downgrade() -> None:
    op.execute("DROP TABLE rollup_monthly")
