"""H3: 同源发布 versions, per-hall API tokens, and the 好差评 platform upload (batches, log, exported ledger).

Revision ID: c0002
Revises: c0001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c0002"
down_revision: str | None = "c0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UP = """
CREATE TABLE city_publication (
    id serial PRIMARY KEY,
    kind varchar(16) NOT NULL CHECK (kind IN ('catalog', 'calendar')),
    version integer NOT NULL,
    etag varchar(64) NOT NULL,
    files json NOT NULL,
    summary varchar(200) NOT NULL,
    published_by varchar(64) NOT NULL,
    published_at timestamptz NOT NULL,
    CONSTRAINT uq_city_publication_kind_version UNIQUE (kind, version)
);
CREATE TABLE city_hall_token (
    hall_code varchar(4) PRIMARY KEY,
    token_hash varchar(64) NOT NULL,
    issued_at timestamptz NOT NULL
);
CREATE TABLE platform_batch (
    batch_id varchar(64) PRIMARY KEY,
    month varchar(7) NOT NULL,
    created_at timestamptz NOT NULL,
    records integer NOT NULL,
    body json NOT NULL,
    digest varchar(64) NOT NULL,
    state varchar(16) NOT NULL,
    attempts integer NOT NULL,
    next_attempt_at timestamptz,
    sent_at timestamptz,
    last_status integer,
    last_response text
);
CREATE INDEX ix_platform_batch_due ON platform_batch (state, next_attempt_at);
CREATE TABLE platform_upload_log (
    id bigserial PRIMARY KEY,
    batch_id varchar(64) NOT NULL,
    at timestamptz NOT NULL,
    attempt integer NOT NULL,
    status integer,
    response text
);
CREATE INDEX ix_platform_upload_log_batch_id ON platform_upload_log (batch_id);
CREATE TABLE platform_exported (
    hall varchar(4) NOT NULL,
    seq bigint NOT NULL,
    batch_id varchar(64) NOT NULL,
    PRIMARY KEY (hall, seq)
);
"""

DOWN = """
DROP TABLE platform_exported;
DROP TABLE platform_upload_log;
DROP TABLE platform_batch;
DROP TABLE city_hall_token;
DROP TABLE city_publication;
"""


def upgrade() -> None:
    op.execute(UP)


def downgrade() -> None:
    op.execute(DOWN)
