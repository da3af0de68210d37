"""Where a checkout keeps what it writes (var/) — for the demo and development; boards use systemd's folders."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
VAR_DIR = PROJECT_ROOT / "var"
