"""Notification settings from the environment (HALLQ_NOTIFY_…): the SMSC account, the webhook, limits.
Secrets only from the environment; unset channels leave messages queued (nothing is lost)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotifySettings(BaseSettings):
    """Where messages go and how often the sender looks."""

    model_config = SettingsConfigDict(env_prefix="HALLQ_NOTIFY_", extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="Run the sender loop with the server")
    interval_s: float = Field(default=2.0, gt=0, le=60, description="How often the outbox is drained")
    slow_scan_s: float = Field(default=60.0, gt=0, le=3600, description="Appointment, rating, deadline scans")
    near_turn: int = Field(default=3, ge=1, le=20, description="前面还有N位: when the near-turn SMS goes")
    per_hour: int = Field(default=5, ge=1, le=100, description="Messages per number per rolling hour")
    per_day: int = Field(default=20, ge=1, le=500, description="Messages per number per rolling day")
    smpp_host: str | None = Field(default=None, description="SMSC host; unset: no SMS channel")
    smpp_port: int = Field(default=2775, ge=1, le=65535)
    smpp_system_id: str = Field(default="hallq", max_length=15)
    smpp_password: SecretStr = Field(default=SecretStr(""), description="SMPP password (max 8 characters)")
    smpp_source: str = Field(default="10690000", max_length=20, description="The hall's SMS service number")
    webhook_url: str | None = Field(default=None, description="Government app / WeChat gateway endpoint (https)")
    webhook_secret: SecretStr = Field(default=SecretStr(""), description="HMAC-SHA256 key shared with the receiver")
