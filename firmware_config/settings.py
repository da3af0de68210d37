"""Where a hall's files are, from the environment (HALLQ_ prefix): what every command of the floor shares."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from firmware_config.hall import HALLS_DIR
from firmware_config.paths import VAR_DIR


class HallFiles(BaseSettings):
    """The hall folder (hall.yaml, devices.yaml, catalog/) and the secrets folder (broker passwords)."""

    model_config = SettingsConfigDict(env_prefix="HALLQ_", extra="ignore", frozen=True)

    hall_dir: Path = Field(default=HALLS_DIR / "demo", description="Folder with hall.yaml, devices.yaml, catalog/")
    secret_dir: Path = VAR_DIR / "secret"
