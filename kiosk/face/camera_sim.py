"""The camera simulator: plays image files as camera frames, for tests, the benchmark and the demo kiosk.

What it can and cannot show: the stock files in kiosk/sim_assets/faces are still photographs (crops of public
domain photos, see ATTRIBUTION.md). A "live" preset plays real photos of one person in genuinely different
head poses one after the other, which is what the head-turn liveness check looks at, but it jumps between
poses instead of turning smoothly and has no blink. Jitter moves one photo the way a hand-held print or a
phone screen moves (shift, scale, in-plane rotation, a little out-of-plane tilt): that is the replay attack
the liveness check must reject.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from kiosk.face.source import FrameSource

ASSETS = Path(__file__).resolve().parents[1] / "sim_assets" / "faces"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
PLAYLIST = "playlist.txt"  # a folder with this file plays it instead of every image in name order

# Named sequences of sim_assets files; each file is held for `hold` frames.
PRESETS: dict[str, tuple[str, ...]] = {
    "live_left": ("cam_obama_front.jpg", "cam_obama_turned_left.jpg"),
    "live_right": ("cam_obama_front.jpg", "cam_obama_turned_right.jpg"),
    "live_both": ("cam_obama_front.jpg", "cam_obama_turned_left.jpg", "cam_obama_turned_right.jpg"),
    "photo": ("cam_obama_front.jpg",),
    "biden": ("cam_biden_front.jpg", "cam_biden_front.jpg"),
    "two_faces": ("cam_two_faces.jpg",),
    "no_face": ("cam_no_face.jpg",),
    "partial": ("cam_partial_face.jpg",),
}


@dataclass(frozen=True)
class Jitter:
    """How far a hand-held photo wanders: a bounded random walk per frame."""

    shift: float = 0.05  # of the frame width
    scale: float = 0.08  # relative
    degrees: float = 6.0  # in-plane rotation
    tilt_degrees: float = 0.0  # out-of-plane rotation about the vertical axis (perspective)
    seed: int = 0


class SimClock:
    """A virtual monotonic clock: sleeping advances it instantly, so tests replay seconds of frames at once."""

    def __init__(self, start: float = 0.0) -> None:
        """Start at `start` seconds."""
        self.now = start

    def __call__(self) -> float:
        """The current virtual time in seconds."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Advance the clock instead of waiting."""
        self.now += max(seconds, 0.0)


class ImageSequenceSource(FrameSource):
    """A FrameSource playing image files at `fps` (0: as fast as read), each held `hold` frames, maybe looping."""

    def __init__(
        self,
        paths: Sequence[str | Path],
        fps: float = 10.0,
        loop: bool = True,
        hold: int = 1,
        jitter: Jitter | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Decode every file now (a handful of small images), so read() is cheap and deterministic."""
        if not paths:
            raise ValueError("an image sequence needs at least one file")
        decoded: dict[Path, np.ndarray] = {}
        for path in map(Path, paths):
            if path not in decoded:
                decoded[path] = _decode(path)
        self._frames: list[np.ndarray] | None = [decoded[Path(p)] for p in paths]  # repeats share one array
        self._fps, self._loop, self._hold = fps, loop, max(hold, 1)
        self._clock, self._sleep = clock, sleep
        self._jitter = jitter
        self._walk = _Walk(jitter) if jitter else None
        self._index = 0
        self._next_at: float | None = None
        self.frames_read = 0

    def read(self) -> np.ndarray | None:
        """The next frame (a fresh copy), waiting for its time at the set fps; None when the sequence ended."""
        if self._frames is None:
            return None
        position = self._index // self._hold
        if position >= len(self._frames):
            if not self._loop:
                return None
            self._index, position = 0, 0
        self._pace()
        self._index += 1
        self.frames_read += 1
        frame = self._frames[position]
        return self._walk.apply(frame) if self._walk else frame.copy()

    def close(self) -> None:
        """Drop the decoded frames."""
        self._frames = None

    def _pace(self) -> None:
        """Sleep until this frame is due, like a camera's blocking read."""
        if self._fps <= 0:
            return
        now = self._clock()
        if self._next_at is not None and self._next_at > now:
            self._sleep(self._next_at - now)
        self._next_at = max(now, self._next_at or now) + 1 / self._fps


class _Walk:
    """The hand-held random walk of shift, scale, rotation and tilt."""

    def __init__(self, jitter: Jitter) -> None:
        """Start centred."""
        self.j = jitter
        self.rng = random.Random(jitter.seed)
        self.state = [0.0, 0.0, 0.0, 0.0, 0.0]  # dx, dy, log-scale, degrees, tilt (each in -1 … 1)

    def apply(self, frame: np.ndarray) -> np.ndarray:
        """Step the walk and warp the frame."""
        self.state = [min(1.0, max(-1.0, s + self.rng.uniform(-0.35, 0.35))) for s in self.state]
        h, w = frame.shape[:2]
        dx, dy, ls, deg, turn = self.state
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), deg * self.j.degrees, math.exp(ls * self.j.scale))
        matrix[:, 2] += (dx * self.j.shift * w, dy * self.j.shift * w)
        moved = cv2.warpAffine(frame, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
        if self.j.tilt_degrees:
            moved = tilt(moved, turn * self.j.tilt_degrees)
        return moved


def tilt(frame: np.ndarray, degrees: float) -> np.ndarray:
    """The frame as a camera (focal length = width) sees a flat print turned `degrees` about its vertical axis."""
    h, w = frame.shape[:2]
    f, a = float(w), math.radians(degrees)
    corners = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    # A point (x, y) of the print at depth f moves to (x cos a, y, f + x sin a) and projects by f / z.
    z = f + corners[:, 0] * math.sin(a)
    centre = np.array([w / 2, h / 2])
    seen = np.column_stack([corners[:, 0] * math.cos(a) * f / z, corners[:, 1] * f / z]) + centre
    matrix = cv2.getPerspectiveTransform((corners + centre).astype(np.float32), seen.astype(np.float32))
    return cv2.warpPerspective(frame, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)


def preset_paths(name: str) -> list[Path]:
    """The files of a named preset."""
    if name not in PRESETS:
        raise ValueError(f"unknown camera preset {name!r}; known: {', '.join(sorted(PRESETS))}")
    return [ASSETS / file for file in PRESETS[name]]


def image_files(folder: Path) -> list[Path]:
    """A folder's frames: its playlist.txt if there is one, else its image files in name order."""
    playlist = folder / PLAYLIST
    if playlist.is_file():
        return read_playlist(playlist)
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def read_playlist(playlist: Path) -> list[Path]:
    """Lines of "file [frames]" (frames defaults to 1; # starts a comment), files relative to the list."""
    paths: list[Path] = []
    for number, raw in enumerate(playlist.read_text(encoding="utf-8").splitlines(), 1):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) > 2 or (len(words) == 2 and not words[1].isdigit()):
            raise ValueError(f"{playlist}:{number}: expected 'file [frames]', got {raw!r}")
        paths += [playlist.parent / words[0]] * (int(words[1]) if len(words) == 2 else 1)
    if not paths:
        raise ValueError(f"{playlist} lists no frames")
    return paths


def _decode(path: Path) -> np.ndarray:
    """One image file as a BGR array (read into memory; cv2.imread would also do, this reports errors clearly)."""
    image = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"not an image: {path}")
    return image
