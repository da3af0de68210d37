"""Where the provincial platform is and how the city signs for it (HALLQ_PLATFORM_ variables)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class PlatformSettings(BaseSettings):
    """The upload's endpoint, signing key, CA and pacing."""

    model_config = SettingsConfigDict(env_prefix="HALLQ_PLATFORM_", extra="forbid", frozen=True)

    url: str = Field(
        default="https://127.0.0.1:8443/api/haocp/batches", pattern=r"^https://", description="Signed HTTPS only"
    )
    sender: str = Field(default="demo-city", pattern=r"^[a-z0-9][a-z0-9_\-]{0,31}$", description="The city's sender id")
    key: SecretStr | None = Field(default=None, description="HMAC key shared with the platform")
    key_file: Path | None = Field(default=None, description="…or a file holding it")
    ca_file: Path | None = Field(default=None, description="CA that signed the platform's certificate")
    timeout_s: float = Field(default=15, gt=0, le=120)
    batch_size: int = Field(default=500, ge=1, le=5000, description="Records per batch")
    retry_base_s: float = Field(default=60, gt=0, description="First retry after this; doubles each time")
    retry_max_s: float = Field(default=6 * 3600, gt=0, description="Longest wait between retries")

    def secret(self) -> bytes:
        """The signing key (refuses to run without one)."""
        if self.key is not None:
            return self.key.get_secret_value().encode("utf-8")
        if self.key_file is not None:
            return self.key_file.read_bytes().strip()
        raise ValueError("未配置省级平台签名密钥：设置 HALLQ_PLATFORM_KEY 或 HALLQ_PLATFORM_KEY_FILE")
