"""City core: hall registry, accounts, store-once ledger, watermarks, monthly-partitioned record tables,
current-state tables, daily rollups and the rejected log.

Revision ID: c0001
Revises:
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STREAMS = ("visits", "cases", "evaluations", "rectifications", "complaints", "device_health", "queue_snapshots")
EXTRA = {
    "visits": "service_date date NOT NULL, department text NOT NULL, item_code text NOT NULL, "
    "wait_s integer NOT NULL, service_s integer NOT NULL,",
    "cases": "serial_no varchar(50) NOT NULL,",
    "evaluations": "department text NOT NULL, item_code text NOT NULL, level_gb smallint NOT NULL, "
    "is_bad boolean NOT NULL,",
}
WAIT = ("w_le_5", "w_le_10", "w_le_15", "w_le_20", "w_le_30", "w_le_45", "w_le_60", "w_le_90", "w_gt_90")

CORE = """
CREATE TABLE city_hall (
    code varchar(4) PRIMARY KEY CHECK (code ~ '^[0-9A-Z]{4}$'),
    hall_id varchar(32) UNIQUE,
    name varchar(60) NOT NULL,
    level varchar(4) NOT NULL CHECK (level IN ('市', '区', '街道', '社区')),
    region_code varchar(6) NOT NULL,
    parent_region varchar(6),
    site_kind varchar(24) NOT NULL,
    bridge_account varchar(64) NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);
CREATE TABLE city_user (
    username varchar(32) PRIMARY KEY,
    display_name varchar(40) NOT NULL,
    role varchar(16) NOT NULL,
    password_hash varchar(200) NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE TABLE city_token (
    token_hash varchar(64) PRIMARY KEY,
    username varchar(32) NOT NULL REFERENCES city_user (username) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked boolean NOT NULL DEFAULT false
);
CREATE TABLE received (
    hall varchar(4) NOT NULL,
    seq bigint NOT NULL,
    stream varchar(24) NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (hall, seq)
);
CREATE TABLE hall_watermark (
    hall varchar(4) PRIMARY KEY,
    upto bigint NOT NULL,
    max_seq bigint NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE TABLE hall_live (
    hall varchar(4) PRIMARY KEY,
    last_record_at timestamptz,
    last_received_at timestamptz,
    queue_at timestamptz,
    waiting integer,
    open_windows integer,
    longest_wait_min integer,
    groups jsonb,
    health_at timestamptz,
    devices_online integer,
    devices_offline integer,
    problems jsonb,
    catalog_version varchar(64),
    calendar_version varchar(64)
);
CREATE TABLE rejected (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL,
    topic varchar(200) NOT NULL,
    hall varchar(64),
    seq bigint,
    reason varchar(300) NOT NULL,
    last_at timestamptz NOT NULL,
    times integer NOT NULL DEFAULT 1
);
CREATE INDEX rejected_at ON rejected (last_at DESC);
-- A hall resends what the city refused until it is fixed: one row per refused record, counted.
CREATE UNIQUE INDEX rejected_once ON rejected (topic, (coalesce(hall, '')), (coalesce(seq, 0)), reason);
CREATE TABLE case_current (
    hall varchar(4) NOT NULL,
    serial_no varchar(50) NOT NULL,
    seq bigint NOT NULL,
    item_code varchar(64) NOT NULL,
    item_name varchar(100),
    department text NOT NULL,
    status varchar(8) NOT NULL,
    accepted_at timestamptz NOT NULL,
    promised_date date NOT NULL,
    decided_at timestamptz,
    delivery varchar(8),
    person_hash varchar(64),
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (hall, serial_no)
);
CREATE INDEX case_current_serial ON case_current (serial_no);
CREATE INDEX case_current_person ON case_current (person_hash) WHERE person_hash IS NOT NULL;
CREATE INDEX case_current_promised ON case_current (hall, promised_date);
CREATE INDEX case_current_open ON case_current (promised_date) WHERE decided_at IS NULL;
CREATE TABLE rectification_current (
    hall varchar(4) NOT NULL,
    rectification_id bigint NOT NULL,
    seq bigint NOT NULL,
    evaluation_id bigint NOT NULL,
    department text NOT NULL,
    window_id varchar(8) NOT NULL,
    state varchar(12) NOT NULL,
    opened_at timestamptz NOT NULL,
    deadline date NOT NULL,
    closed_at timestamptz,
    on_time boolean,
    PRIMARY KEY (hall, rectification_id)
);
CREATE INDEX rectification_current_deadline ON rectification_current (hall, deadline);
CREATE INDEX rectification_current_open ON rectification_current (deadline) WHERE closed_at IS NULL;
CREATE TABLE complaint_current (
    hall varchar(4) NOT NULL,
    complaint_id bigint NOT NULL,
    seq bigint NOT NULL,
    kind varchar(16) NOT NULL,
    source varchar(16) NOT NULL,
    state varchar(16) NOT NULL,
    received_at timestamptz NOT NULL,
    due date,
    closed_at timestamptz,
    department text NOT NULL,
    PRIMARY KEY (hall, complaint_id)
);
CREATE INDEX complaint_current_open ON complaint_current (due) WHERE closed_at IS NULL;
CREATE TABLE rollup_dirty (
    hall varchar(4) NOT NULL,
    day date NOT NULL,
    PRIMARY KEY (hall, day)
);
"""


def _record_table(stream: str) -> str:
    return f"""
CREATE TABLE rec_{stream} (
    hall varchar(4) NOT NULL,
    seq bigint NOT NULL,
    at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    kind varchar(32) NOT NULL,
    record jsonb NOT NULL,
    {EXTRA.get(stream, "")}
    PRIMARY KEY (hall, seq, at)
) PARTITION BY RANGE (at);
CREATE INDEX rec_{stream}_hall_at ON rec_{stream} (hall, at);
"""


def _rollup() -> str:
    counts = ", ".join(
        f"{name} integer NOT NULL DEFAULT 0"
        for name in (*WAIT, "eval_1", "eval_2", "eval_3", "eval_4", "eval_5", "eval_bad")
        + ("rect_due", "rect_on_time", "cases_due", "cases_on_time")
    )
    return f"""
CREATE TABLE rollup_daily (
    day date NOT NULL,
    hall varchar(4) NOT NULL,
    department text NOT NULL,
    item_code text NOT NULL,
    visits integer NOT NULL DEFAULT 0,
    wait_sum_s bigint NOT NULL DEFAULT 0,
    wait_max_s integer NOT NULL DEFAULT 0,
    {counts},
    PRIMARY KEY (day, hall, department, item_code)
);
CREATE INDEX rollup_daily_hall_day ON rollup_daily (hall, day);
"""


def upgrade() -> None:
    op.execute(CORE)
    for stream in STREAMS:
        op.execute(_record_table(stream))
    op.execute("CREATE INDEX rec_visits_service_date ON rec_visits (hall, service_date)")
    op.execute("CREATE INDEX rec_cases_serial ON rec_cases (serial_no)")
    op.execute(_rollup())


def downgrade() -> None:
    for stream in STREAMS:
        op.execute(f"DROP TABLE rec_{stream} CASCADE")
    for table in (
        "rollup_daily",
        "rollup_dirty",
        "complaint_current",
        "rectification_current",
        "case_current",
        "rejected",
        "hall_live",
        "hall_watermark",
        "received",
        "city_token",
        "city_user",
        "city_hall",
    ):
        op.execute(f"DROP TABLE {table}")
