"""What a floor device reads from its environment (HALLQ_ prefix): the broker, the server's URL, the hall
folder and the hall clock. The server's own settings (database, keys) are not a device's business."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import Field, field_validator

from firmware_config.settings import HallFiles
from hallcore.clock import Clock, hall_clock, require_offset


class DeviceSettings(HallFiles):
    """Everything a kiosk, display, evaluator or printer agent reads from its environment."""

    broker_host: str | None = None
    broker_port: int = Field(default=1883, ge=1, le=65535)
    broker_ca_file: Path | None = None
    public_url: str | None = Field(default=None, description="The hall server's URL (catalog, QR codes)")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    clock_start: datetime | None = None
    clock_set_at: datetime | None = None
    log_level: str = Field(default="info", pattern="^(debug|info|warning|error)$")

    @property
    def base_url(self) -> str:
        """The hall server's URL."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def hall_clock(self, base: Clock | None = None) -> Clock:
        """The server's clock: the wall clock, or the demo clock `hallq run` hands its devices."""
        return hall_clock(self.clock_start, self.clock_set_at, base)

    _aware = field_validator("clock_start", "clock_set_at")(require_offset)
