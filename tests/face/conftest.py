"""Face check-in fixtures: the stock photos and a check-in runner on the camera simulator's virtual clock."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kiosk.face.camera_sim import ASSETS, Jitter, SimClock
from kiosk.face.capture import open_source
from kiosk.face.checkin import FaceCheckin, FaceOutcome, FaceSettings


def photo(name: str) -> bytes:
    """A stock photo's encoded bytes, as the ID card reader would hand them over."""
    return (ASSETS / name).read_bytes()


@dataclass
class Run:
    """One finished check-in: its outcome and every progress report."""

    outcome: FaceOutcome
    progress: list[tuple[str, str]] = field(default_factory=list)
    frames: int = 0

    @property
    def messages(self) -> list[str]:
        """Just the Chinese messages."""
        return [message for _step, message in self.progress]


RunCheckin = Callable[..., Run]


@pytest.fixture
def run_checkin() -> RunCheckin:
    """Run a check-in on a simulated camera spec with a virtual clock (seconds of frames in a blink)."""

    def run(
        spec: str,
        id_photo: bytes | None,
        hold: int = 10,
        jitter: Jitter | None = None,
        loop: bool = True,
        cancel: threading.Event | None = None,
        **settings: Any,
    ) -> Run:
        clock = SimClock()
        source = open_source(spec, fps=10, hold=hold, loop=loop, jitter=jitter, clock=clock, sleep=clock.sleep)
        checkin = FaceCheckin(source, FaceSettings(**settings), clock=clock, sleep=clock.sleep, rng=random.Random(7))
        progress: list[tuple[str, str]] = []
        outcome = checkin.run(id_photo, lambda step, message: progress.append((step, message)), cancel)
        frames = getattr(source, "frames_read", 0)
        source.close()
        return Run(outcome, progress, frames)

    return run


@pytest.fixture(scope="session")
def assets() -> Path:
    """The stock face folder."""
    return ASSETS
