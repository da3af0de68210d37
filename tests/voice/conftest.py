"""Voice tests need espeak-ng: its absence is a failure that says what to install, never a skip."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.voice.tts import SpeechRenderer, espeak_binary


@pytest.fixture
def renderer(tmp_path: Path) -> SpeechRenderer:
    """A renderer with its cache in the test's folder (fails clearly without espeak-ng)."""
    espeak_binary()
    return SpeechRenderer(tmp_path / "voice")
