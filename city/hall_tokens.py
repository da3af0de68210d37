"""Per-hall API tokens: how a hall server proves itself to the city's HTTP API (catalog downloads, cross-hall
progress). Provisioned with the hall's bridge account (`issue`), kept by the hall in
`<secret_dir>/city/api.token`; the city stores only a SHA-256 of the secret. The token is
`<hall code>.<secret>`, so the hall a request comes from is the token's, never anything in the request."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, delete, insert, select

from hallcore.sync import HALL_CODE

metadata = MetaData()

hall_token = Table(
    "city_hall_token",
    metadata,
    Column("hall_code", String(4), primary_key=True),
    Column("token_hash", String(64), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
)

TOKEN = re.compile(r"^([0-9A-Z]{4})\.([A-Za-z0-9_\-]{32,64})$")


def ensure_tables(engine: Engine) -> None:
    """Create the token table when the city's migration has not (idempotent)."""
    metadata.create_all(engine, checkfirst=True)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def issue(engine: Engine, hall_code: str, now: datetime) -> str:
    """A new token for a hall (replacing its old one); shown once, stored hashed."""
    if not re.fullmatch(HALL_CODE, hall_code):
        raise ValueError(f"大厅编码无效：{hall_code!r}")
    secret = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(delete(hall_token).where(hall_token.c.hall_code == hall_code))
        conn.execute(insert(hall_token).values(hall_code=hall_code, token_hash=_digest(secret), issued_at=now))
    return f"{hall_code}.{secret}"


def verify(engine: Engine, token: str) -> str | None:
    """The hall code a token belongs to, None for anything else (constant-time comparison)."""
    match = TOKEN.match(token or "")
    if match is None:
        return None
    code, secret = match.groups()
    with engine.connect() as conn:
        stored = conn.execute(select(hall_token.c.token_hash).where(hall_token.c.hall_code == code)).scalar()
    if stored is None or not hmac.compare_digest(stored, _digest(secret)):
        return None
    return code
