"""Complaint fixtures: the console's browser fixtures (live hall on the real broker, headless Chromium)."""

from __future__ import annotations

from tests.console.conftest import console, driver, live_hall  # noqa: F401 (the browser fixtures, reused)
