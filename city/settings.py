"""City settings from the environment (HALLQ_CITY_ prefix), validated once at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url


class CitySettings(BaseSettings):
    """Everything the city services (ingest, API, console, rollups) read from their environment."""

    model_config = SettingsConfigDict(env_prefix="HALLQ_CITY_", extra="forbid", frozen=True)

    database_url: str = Field(
        default="postgresql+psycopg://hallq@127.0.0.1:5432/hallq_city",
        description="SQLAlchemy URL of the city database: PostgreSQL only (partitions, JSONB, rollups)",
    )
    city_id: str = Field(default="demo-city", pattern=r"^[a-z][a-z0-9_\-]{1,30}$", description="The city's id")
    broker_host: str = Field(default="127.0.0.1", description="The city broker the halls bridge to")
    broker_port: int = Field(default=1883, ge=1, le=65535)
    broker_username: str = Field(default="city-ingest", description="The ingest account on the city broker")
    broker_password: SecretStr | None = Field(default=None, description="Its password")
    broker_ca_file: Path | None = Field(default=None, description="CA certificate when the city broker uses TLS")
    consumer: Literal["mqtt", "amqp"] = Field(
        default="mqtt", description="mqtt: $share subscription on Mosquitto; amqp: a durable queue on RabbitMQ"
    )
    amqp_url: SecretStr | None = Field(default=None, description="amqp://user:password@host:port/ (consumer amqp)")
    share_group: str = Field(default="ingest", pattern=r"^[a-z][a-z0-9_\-]{0,30}$", description="$share group")
    client_id_prefix: str = Field(default="city-ingest", pattern=r"^[a-z][a-z0-9_\-]{0,40}$")
    session_expiry_s: int = Field(default=7 * 86400, ge=60, description="Broker keeps a worker's queue this long")
    receive_maximum: int = Field(default=1000, ge=1, le=65535, description="Unacknowledged messages per worker")
    batch_size: int = Field(default=500, ge=1, le=10_000, description="Records per database commit")
    batch_wait_s: float = Field(default=0.05, gt=0, le=5, description="Longest wait to fill a batch")
    record_past_days: int = Field(default=400, ge=1, description="Older records are refused (clock fault)")
    record_future_days: int = Field(default=2, ge=0, description="Records further in the future are refused")
    rollup_interval_s: float = Field(default=30, gt=0, le=3600, description="How often the ingest refreshes rollups")
    silent_after_min: int = Field(default=10, ge=1, description="Alert: a hall sent nothing for this long")
    long_wait_min: int = Field(default=30, ge=1, description="Alert: a hall's longest wait reaches this")
    host: str = "127.0.0.1"
    port: int = Field(default=8100, ge=1, le=65535)
    log_level: str = Field(default="info", pattern="^(debug|info|warning|error)$")

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str) -> str:
        if make_url(value).get_backend_name() != "postgresql":
            raise ValueError("the city database must be PostgreSQL (postgresql+psycopg://…)")
        return value
