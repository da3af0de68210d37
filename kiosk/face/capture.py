"""Frame sources behind one interface: an OpenCV camera, a video file, or the image-sequence camera simulator."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kiosk.face.camera_sim import IMAGE_SUFFIXES, ImageSequenceSource, Jitter, image_files, preset_paths
from kiosk.face.source import FrameSource

__all__ = ["CameraSource", "FrameSource", "ImageSequenceSource", "VideoFileSource", "open_source"]


class _CaptureSource(FrameSource):
    """A cv2.VideoCapture wrapper (camera or file)."""

    def __init__(self, capture: Any, what: str) -> None:
        """Take an opened capture; fail clearly if it did not open."""
        if not capture.isOpened():
            raise OSError(f"cannot open {what}")
        self._capture = capture

    def read(self) -> np.ndarray | None:
        """The next frame from OpenCV, or None."""
        ok, frame = self._capture.read()
        return frame if ok else None

    def close(self) -> None:
        """Release the OpenCV capture."""
        self._capture.release()


class CameraSource(_CaptureSource):
    """A V4L2/USB camera by index; frames are never stored, only handed to the caller."""

    def __init__(self, index: int, width: int = 640, height: int = 480) -> None:
        """Open camera `index` asking for width×height."""
        capture = cv2.VideoCapture(index)
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        super().__init__(capture, f"camera {index}")


class VideoFileSource(_CaptureSource):
    """A video file played once (or looped), as fast as it decodes unless realtime paces it at its own fps."""

    def __init__(self, path: str | Path, loop: bool = False, realtime: bool = False) -> None:
        """Open the file."""
        super().__init__(cv2.VideoCapture(str(path)), f"video {path}")
        self._loop, self._realtime = loop, realtime
        fps = self._capture.get(cv2.CAP_PROP_FPS) or 25.0
        self._period, self._next_at = 1 / fps, 0.0

    def read(self) -> np.ndarray | None:
        """The next frame; at the end, rewind when looping."""
        frame = super().read()
        if frame is None and self._loop:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            frame = super().read()
        if self._realtime and frame is not None:
            delay = self._next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._next_at = time.monotonic() + self._period
        return frame


def open_source(
    spec: str,
    *,
    fps: float = 10.0,
    loop: bool = True,
    hold: int = 1,
    jitter: Jitter | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> FrameSource:
    """A source from a spec: "0" (camera index), "sim:live_left" (a preset), a folder, "a.jpg,b.jpg", a video.

    fps, loop, hold, jitter, clock and sleep apply to image sequences (the camera simulator) only.
    """
    spec = spec.strip()
    if spec.isdigit():
        return CameraSource(int(spec))
    if spec.startswith("sim:"):
        paths = preset_paths(spec[4:])
    elif "," in spec:
        paths = [Path(part.strip()) for part in spec.split(",") if part.strip()]
    elif Path(spec).is_dir():
        paths = image_files(Path(spec))
    elif Path(spec).suffix.lower() in IMAGE_SUFFIXES:
        paths = [Path(spec)]
    elif Path(spec).is_file():
        return VideoFileSource(spec, loop=loop)
    else:
        raise ValueError(f"no camera, image or video at {spec!r}")
    return ImageSequenceSource(paths, fps=fps, loop=loop, hold=hold, jitter=jitter, clock=clock, sleep=sleep)
