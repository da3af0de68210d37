"""Challenge-response liveness: pure state machines fed with one face's landmarks per frame.

A held-up photo or a phone replaying a still can be moved, scaled, rotated and tilted, but its landmarks keep
their affine layout (see pose.py), so the head-turn challenge does not move; nor do its eyes close. What this
does NOT stop: a video of the person doing the asked move (the random direction only helps against a clip
that turns one way), a mask, or two photos swapped in front of the camera. Certified kiosks add an infrared
or depth camera for that; this check is the software layer on an ordinary USB camera.
"""

from __future__ import annotations

import random
from typing import Literal, Protocol

import numpy as np

from kiosk.face import prompts
from kiosk.face.pose import eye_aspect_ratio, yaw_index
from kiosk.face.settings import FaceSettings

Direction = Literal["left", "right"]


class Challenge(Protocol):
    """One liveness challenge: the instruction shown, and a frame-by-frame verdict."""

    instruction: str

    def observe(self, points: np.ndarray) -> bool:
        """Feed one frame's landmarks; True once the challenge is met."""
        ...

    def lost(self) -> None:
        """The face was not seen on a frame (a run of good frames starts over)."""
        ...


class HeadTurn:
    """Passed when the yaw index moves by `change` in the asked direction for `frames` consecutive frames."""

    def __init__(self, direction: Direction, baseline: float, change: float, frames: int, mirrored: bool) -> None:
        """Ask for `direction` (the citizen's own left or right) from the baseline yaw of the frontal frames."""
        self.instruction = prompts.TURN[direction]
        # The subject's left is the image's right (positive yaw index) unless the camera mirrors.
        self.sign = 1.0 if (direction == "left") != mirrored else -1.0
        self.baseline, self.change, self.frames = baseline, change, frames
        self.run = 0

    def observe(self, points: np.ndarray) -> bool:
        """Count consecutive frames turned far enough the right way."""
        turned = self.sign * (yaw_index(points) - self.baseline) >= self.change
        self.run = self.run + 1 if turned else 0
        return self.run >= self.frames

    def lost(self) -> None:
        """Start the run over."""
        self.run = 0


class Blink:
    """Passed when the eye aspect ratio dips below `ratio` × the open-eye baseline and comes back."""

    def __init__(self, baseline: float, ratio: float) -> None:
        """Open-eye baseline from the frontal frames."""
        self.instruction = prompts.BLINK
        self.closed_below, self.open_above = baseline * ratio, baseline * (1 + ratio) / 2
        self.closed = False

    def observe(self, points: np.ndarray) -> bool:
        """Closed then open again."""
        ear = eye_aspect_ratio(points)
        if ear < self.closed_below:
            self.closed = True
            return False
        return self.closed and ear >= self.open_above

    def lost(self) -> None:
        """A lost face does not undo a closing already seen (eyes shut can make detection flicker)."""


def make_challenge(settings: FaceSettings, yaws: list[float], ears: list[float], rng: random.Random) -> Challenge:
    """The configured challenge, calibrated on the frontal frames' median yaw or eye ratio."""
    if settings.liveness == "blink":
        return Blink(float(np.median(ears)), settings.blink_ratio)
    direction: Direction = (
        rng.choice(("left", "right")) if settings.turn_direction == "random" else settings.turn_direction
    )
    return HeadTurn(direction, float(np.median(yaws)), settings.yaw_change, settings.turned_frames, settings.mirrored)
