"""Face detection (dlib HOG or OpenCV Haar) and 68-point landmarks on one frame."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np

from kiosk.face.models import FaceModels

DetectorKind = Literal["dlib_hog", "haar"]
MIN_WORK_WIDTH = 320  # small inputs (a 102×126 ID photo) are upscaled so the HOG window (80 px) fits the face
# Haar boxes are larger and start higher than the HOG boxes the landmark predictor was trained on (measured on
# the sim_assets faces: the HOG box is ≈ 0.9 of the Haar box, its centre ≈ 0.1 of the size lower).
HAAR_SCALE, HAAR_SHIFT = 0.9, 0.1
_haar: Any = None
_haar_lock = threading.Lock()


@dataclass(frozen=True)
class Face:
    """One detected face: its box and landmarks in the work image's pixels."""

    box: tuple[int, int, int, int]  # x, y, w, h
    points: np.ndarray  # (68, 2) float landmarks
    shape: Any  # dlib.full_object_detection, needed by the embedding network


@dataclass(frozen=True)
class Detection:
    """The faces of one frame and the resized frame they refer to (kept only while the frame is in use)."""

    image: np.ndarray  # BGR work image
    faces: list[Face]

    @property
    def size(self) -> tuple[int, int]:
        """Work image width and height."""
        return self.image.shape[1], self.image.shape[0]


def work_image(frame: np.ndarray, max_width: int) -> np.ndarray:
    """The frame resized into [MIN_WORK_WIDTH, max_width] pixels wide (detection cost grows with area)."""
    width = frame.shape[1]
    target = min(max(width, MIN_WORK_WIDTH), max_width)
    if target == width:
        return frame
    scale = target / width
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(frame, None, fx=scale, fy=scale, interpolation=interpolation)


def detect(frame: np.ndarray, models: FaceModels, kind: DetectorKind = "dlib_hog", max_width: int = 640) -> Detection:
    """Every face of the frame with its landmarks, largest first."""
    import dlib  # already imported by get_models()

    image = work_image(frame, max_width)
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    boxes = _dlib_boxes(gray, models) if kind == "dlib_hog" else _haar_boxes(gray)
    faces = []
    for x, y, w, h in sorted(boxes, key=lambda b: -b[2] * b[3]):
        shape = models.landmarks(gray, dlib.rectangle(x, y, x + w, y + h))
        points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
        faces.append(Face((x, y, w, h), points, shape))
    return Detection(image, faces)


def inside(face: Face, size: tuple[int, int], margin: float) -> bool:
    """Whether the face and all its landmarks lie inside the frame with a margin (a cut face gives bad landmarks)."""
    width, height = size
    mx, my = margin * width, margin * height
    x, y, w, h = face.box
    box_in = x >= mx and y >= my and x + w <= width - mx and y + h <= height - my
    points_in = bool(np.all((face.points >= (mx, my)) & (face.points <= (width - mx, height - my))))
    return box_in and points_in


def _dlib_boxes(gray: np.ndarray, models: FaceModels) -> list[tuple[int, int, int, int]]:
    """dlib's HOG frontal detector, no upsampling (faces from about 80 px)."""
    return [(r.left(), r.top(), r.width(), r.height()) for r in models.detector(gray, 0)]


def _haar_boxes(gray: np.ndarray) -> list[tuple[int, int, int, int]]:
    """OpenCV's frontal Haar cascade, boxes mapped onto dlib's box convention for the landmark predictor."""
    found = _cascade().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(80, 80))
    out = []
    for x, y, w, h in found:
        size = int(w * HAAR_SCALE)
        cx, cy = x + w / 2, y + h / 2 + HAAR_SHIFT * h
        out.append((int(cx - size / 2), int(cy - size / 2), size, size))
    return out


def _cascade() -> Any:
    """The Haar cascade shipped with opencv-python 4.x, loaded once."""
    global _haar
    with _haar_lock:
        if _haar is None:
            path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
            _haar = cv2.CascadeClassifier(path)
            if _haar.empty():
                raise RuntimeError(f"Haar cascade missing at {path} (opencv-python 5.x ships none; use 4.x)")
    return _haar
