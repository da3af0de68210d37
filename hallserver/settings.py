"""Server settings from the environment (HALLQ_ prefix), validated once at start-up."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from firmware_config.hall import HALLS_DIR
from firmware_config.paths import PROJECT_ROOT
from hallcore.calendar import HOLIDAYS_FILE
from hallcore.clock import Clock, hall_clock, require_offset


class Settings(BaseSettings):
    """Everything the hall server reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="HALLQ_", extra="forbid", frozen=True)

    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'hallq.db'}",
        description="SQLAlchemy URL: sqlite:///path (WAL) or postgresql+psycopg://user@host/db",
    )
    hall_dir: Path = Field(default=HALLS_DIR / "demo", description="Folder with hall.yaml and catalog/")
    holidays_file: Path = HOLIDAYS_FILE
    identity_key: SecretStr | None = Field(
        default=None, description="Key for identity hashes; generated into secret_dir when unset"
    )
    data_keys: SecretStr | None = Field(
        default=None,
        description="Keys encrypting personal data, `id:base64` newest first; else var/secret/data.keys",
    )
    secret_dir: Path = PROJECT_ROOT / "var" / "secret"
    clock_start: datetime | None = Field(
        default=None,
        description="Run the hall clock from this instant (RFC 3339 with offset): demos and training only",
    )
    clock_set_at: datetime | None = Field(
        default=None,
        description="The wall instant at which the hall clock read clock_start; `hallq run` passes it (with "
        "clock_start) to its devices so they all show the server's time. Unset: the saved anchor (clock_file)",
    )
    clock_file: Path | None = Field(
        default=None,
        description="Where the demo clock's anchor is kept across restarts; default beside the SQLite "
        "database (var/hallq.clock.json), else var/clock.json",
    )
    broker_host: str | None = Field(default=None, description="MQTT broker; unset runs the server without the bus")
    broker_port: int = Field(default=1883, ge=1, le=65535)
    broker_dir: Path = Field(
        default=PROJECT_ROOT / "var" / "broker", description="Where `hallq run` renders and runs its broker"
    )
    broker_ca_file: Path | None = Field(default=None, description="CA certificate when the broker listens with TLS")
    public_url: str | None = Field(default=None, description="How devices reach this server; default from host/port")
    housekeeping_s: float = Field(default=300, gt=0, le=3600, description="How often no-shows are swept")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = Field(default="info", pattern="^(debug|info|warning|error)$")

    @property
    def base_url(self) -> str:
        """The URL devices use for HTTP (catalog, QR codes)."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def clock_anchor_file(self) -> Path:
        """The file that keeps the demo clock's anchor: beside the tickets it orders when they are in SQLite."""
        if self.clock_file is not None:
            return self.clock_file
        url = make_url(self.database_url)
        database = url.database or ""
        if url.get_backend_name() == "sqlite" and database not in ("", ":memory:") and not database.startswith("file:"):
            return Path(database).with_suffix(".clock.json")
        return PROJECT_ROOT / "var" / "clock.json"

    def hall_clock(self, base: Clock | None = None) -> Clock:
        """The hall's clock: the wall clock, or the demo clock from clock_start (read at clock_set_at)."""
        return hall_clock(self.clock_start, self.clock_set_at, base)

    _aware = field_validator("clock_start", "clock_set_at")(require_offset)

    @field_validator("database_url")
    @classmethod
    def _supported(cls, url: str) -> str:
        if not url.startswith(("sqlite://", "postgresql")):
            raise ValueError("only sqlite:/// and postgresql+psycopg:// URLs are supported")
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url
