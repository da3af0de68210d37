"""The city database's tables (SQLAlchemy Core, PostgreSQL only); created by city/migrations.

Record tables (`rec_*`) are range-partitioned by month on the record's time (`at`): their primary key
carries `at`, so the store-once guarantee for (hall, seq) lives in `received`, keyed (hall, seq)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()
TZ = DateTime(timezone=True)


def _code() -> Column[str]:
    return Column("hall", String(4), primary_key=True)


city_hall = Table(
    "city_hall",
    metadata,
    Column("code", String(4), primary_key=True),
    Column("hall_id", String(32), unique=True),  # the hall's own id in its profile (e.g. demo)
    Column("name", String(60), nullable=False),
    Column("level", String(4), nullable=False),  # 市 / 区 / 街道 / 社区
    Column("region_code", String(6), nullable=False),
    Column("parent_region", String(6)),
    Column("site_kind", String(24), nullable=False),  # hall | self_service_point
    Column("bridge_account", String(64), nullable=False, unique=True),
    Column("created_at", TZ, nullable=False),
)

city_user = Table(
    "city_user",
    metadata,
    Column("username", String(32), primary_key=True),
    Column("display_name", String(40), nullable=False),
    Column("role", String(16), nullable=False),  # admin | viewer
    Column("password_hash", String(200), nullable=False),
    Column("created_at", TZ, nullable=False),
)

city_token = Table(
    "city_token",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("username", String(32), nullable=False),
    Column("created_at", TZ, nullable=False),
    Column("expires_at", TZ, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
)

received = Table(
    "received",
    metadata,
    Column("hall", String(4), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("stream", String(24), nullable=False),
    Column("received_at", TZ, nullable=False),
)

hall_watermark = Table(
    "hall_watermark",
    metadata,
    _code(),
    Column("upto", BigInteger, nullable=False),  # highest contiguous seq held
    Column("max_seq", BigInteger, nullable=False),  # highest seq seen (beyond a hole when > upto)
    Column("updated_at", TZ, nullable=False),
)

hall_live = Table(
    "hall_live",
    metadata,
    _code(),
    Column("last_record_at", TZ),  # the newest record's own time
    Column("last_received_at", TZ),  # when the city last received anything from the hall
    Column("queue_at", TZ),
    Column("waiting", Integer),
    Column("open_windows", Integer),
    Column("longest_wait_min", Integer),
    Column("groups", JSONB),
    Column("health_at", TZ),
    Column("devices_online", Integer),
    Column("devices_offline", Integer),
    Column("problems", JSONB),
    Column("catalog_version", String(64)),
    Column("calendar_version", String(64)),
)

rejected = Table(
    "rejected",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("at", TZ, nullable=False),
    Column("topic", String(200), nullable=False),
    Column("hall", String(64)),
    Column("seq", BigInteger),
    Column("reason", String(300), nullable=False),
    Column("last_at", TZ, nullable=False),
    Column("times", Integer, nullable=False, default=1),
)


def _record_table(name: str, *extra: Column[object]) -> Table:
    return Table(
        name,
        metadata,
        Column("hall", String(4), primary_key=True),
        Column("seq", BigInteger, primary_key=True),
        Column("at", TZ, primary_key=True),  # the partition key: the record's own time
        Column("received_at", TZ, nullable=False),
        Column("kind", String(32), nullable=False),
        Column("record", JSONB, nullable=False),  # the record as validated (no plaintext personal data)
        *extra,
        postgresql_partition_by="RANGE (at)",
    )


rec_visits = _record_table(
    "rec_visits",
    Column("service_date", Date, nullable=False),
    Column("department", Text, nullable=False),
    Column("item_code", Text, nullable=False),
    Column("wait_s", Integer, nullable=False),
    Column("service_s", Integer, nullable=False),
)
rec_cases = _record_table("rec_cases", Column("serial_no", String(50), nullable=False))
rec_evaluations = _record_table(
    "rec_evaluations",
    Column("department", Text, nullable=False),
    Column("item_code", Text, nullable=False),
    Column("level_gb", SmallInteger, nullable=False),
    Column("is_bad", Boolean, nullable=False),
)
rec_rectifications = _record_table("rec_rectifications")
rec_complaints = _record_table("rec_complaints")
rec_device_health = _record_table("rec_device_health")
rec_queue_snapshots = _record_table("rec_queue_snapshots")

RECORD_TABLES: dict[str, Table] = {
    "visits": rec_visits,
    "cases": rec_cases,
    "evaluations": rec_evaluations,
    "rectifications": rec_rectifications,
    "complaints": rec_complaints,
    "device_health": rec_device_health,
    "queue_snapshots": rec_queue_snapshots,
}

# Latest state per case / rectification / complaint (newest seq wins): overdue lists, rollups, progress.
case_current = Table(
    "case_current",
    metadata,
    Column("hall", String(4), primary_key=True),
    Column("serial_no", String(50), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("item_code", String(64), nullable=False),
    Column("item_name", String(100)),
    Column("department", Text, nullable=False),
    Column("status", String(8), nullable=False),
    Column("accepted_at", TZ, nullable=False),
    Column("promised_date", Date, nullable=False),
    Column("decided_at", TZ),
    Column("delivery", String(8)),
    Column("person_hash", String(64)),
    Column("updated_at", TZ, nullable=False),
)

rectification_current = Table(
    "rectification_current",
    metadata,
    Column("hall", String(4), primary_key=True),
    Column("rectification_id", BigInteger, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("evaluation_id", BigInteger, nullable=False),
    Column("department", Text, nullable=False),
    Column("window_id", String(8), nullable=False),
    Column("state", String(12), nullable=False),
    Column("opened_at", TZ, nullable=False),
    Column("deadline", Date, nullable=False),
    Column("closed_at", TZ),
    Column("on_time", Boolean),
)

complaint_current = Table(
    "complaint_current",
    metadata,
    Column("hall", String(4), primary_key=True),
    Column("complaint_id", BigInteger, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("source", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("received_at", TZ, nullable=False),
    Column("due", Date),
    Column("closed_at", TZ),
    Column("department", Text, nullable=False),
)

WAIT_BUCKETS_MIN = (5, 10, 15, 20, 30, 45, 60, 90)  # upper bounds; one more bucket for longer waits
WAIT_COLUMNS = (*(f"w_le_{m}" for m in WAIT_BUCKETS_MIN), "w_gt_90")


def _sums() -> list[Column[Any]]:
    """The figures a rollup keeps per (period, hall, department, item), all additive (new columns per table)."""
    return [
        Column("visits", Integer, nullable=False, default=0),
        Column("wait_sum_s", BigInteger, nullable=False, default=0),
        Column("wait_max_s", Integer, nullable=False, default=0),
        *(Column(name, Integer, nullable=False, default=0) for name in WAIT_COLUMNS),
        *(Column(f"eval_{level}", Integer, nullable=False, default=0) for level in range(1, 6)),
        Column("eval_bad", Integer, nullable=False, default=0),
        Column("rect_due", Integer, nullable=False, default=0),
        Column("rect_on_time", Integer, nullable=False, default=0),
        Column("cases_due", Integer, nullable=False, default=0),
        Column("cases_on_time", Integer, nullable=False, default=0),
    ]


rollup_daily = Table(
    "rollup_daily",
    metadata,
    Column("day", Date, primary_key=True),
    Column("hall", String(4), primary_key=True),
    Column("department", Text, primary_key=True),
    Column("item_code", Text, primary_key=True),
    *_sums(),
)

# The same sums per calendar month (`month` is its first day), maintained with rollup_daily (city/rollups.py).
rollup_monthly = Table(
    "rollup_monthly",
    metadata,
    Column("month", Date, primary_key=True),
    Column("hall", String(4), primary_key=True),
    Column("department", Text, primary_key=True),
    Column("item_code", Text, primary_key=True),
    *_sums(),
)

rollup_dirty = Table(
    "rollup_dirty",
    metadata,
    Column("hall", String(4), primary_key=True),
    Column("day", Date, primary_key=True),
)
