"""1:1 verification: 128-d dlib embeddings of the live face and of the ID-card photo, and their distance."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.face.detect import Detection, DetectorKind, Face, detect
from kiosk.face.models import FaceModels


@dataclass(frozen=True)
class Match:
    """The verification result: distance between embeddings and whether it is within the threshold."""

    distance: float
    threshold: float

    @property
    def same_person(self) -> bool:
        """Accepted as the same person."""
        return self.distance <= self.threshold


def embed(detection: Detection, face: Face, models: FaceModels) -> np.ndarray:
    """The face's 128-d embedding (one pass of dlib's ResNet, no jittering)."""
    rgb = cv2.cvtColor(detection.image, cv2.COLOR_BGR2RGB)
    return np.asarray(models.encoder.compute_face_descriptor(rgb, face.shape), dtype=np.float64)


def decode_photo(data: bytes) -> np.ndarray | None:
    """Encoded JPEG/PNG/BMP bytes (as the ID reader returns them) to BGR, in memory only; None if undecodable."""
    if not data:
        return None
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def photo_embedding(data: bytes, models: FaceModels, kind: DetectorKind = "dlib_hog") -> np.ndarray | None:
    """The embedding of the largest face on an ID photo, or None if there is no usable face."""
    image = decode_photo(data)
    if image is None:
        return None
    found = detect(image, models, kind, max_width=640)
    if not found.faces and kind != "dlib_hog":
        found = detect(image, models, "dlib_hog", max_width=640)  # ID photos are frontal: HOG is the fallback
    return embed(found, found.faces[0], models) if found.faces else None


def compare(live: np.ndarray, reference: np.ndarray, threshold: float) -> Match:
    """Euclidean distance between two embeddings against the threshold."""
    return Match(float(np.linalg.norm(live - reference)), threshold)
