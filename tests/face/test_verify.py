"""1:1 verification on real photos: same person within the threshold, different person far outside it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.face.checkin import FaceSettings
from kiosk.face.detect import detect
from kiosk.face.models import get_models
from kiosk.face.verify import compare, decode_photo, embed, photo_embedding
from tests.face.conftest import photo

THRESHOLD = FaceSettings().threshold


def distance(a: str, b: str) -> float:
    """Embedding distance between two stock photos."""
    models = get_models()
    ea, eb = photo_embedding(photo(a), models), photo_embedding(photo(b), models)
    assert ea is not None and eb is not None
    return compare(ea, eb, THRESHOLD).distance


@pytest.mark.parametrize(
    ("a", "b"),
    [("obama.jpg", "obama2.jpg"), ("obama.jpg", "obama3.jpg"), ("id_obama.jpg", "cam_obama_front.jpg")],
)
def test_same_person_is_accepted(a: str, b: str) -> None:
    """Different photos of one person (years and lighting apart, one a 102×126 ID crop) match."""
    d = distance(a, b)
    assert d <= THRESHOLD
    assert compare(np.zeros(128), np.full(128, d / np.sqrt(128)), THRESHOLD).same_person


@pytest.mark.parametrize(
    ("a", "b"), [("obama.jpg", "biden.jpg"), ("id_biden.jpg", "cam_obama_front.jpg"), ("id_obama.jpg", "biden.jpg")]
)
def test_different_person_is_rejected(a: str, b: str) -> None:
    """Obama against Biden stays well above the threshold (measured 0.76–0.87)."""
    d = distance(a, b)
    assert d > THRESHOLD + 0.15


def test_embedding_is_128_numbers_and_stable() -> None:
    """The same frame twice gives the same 128-d vector; a mirror image stays very close."""
    models = get_models()
    frame = decode_photo(photo("cam_obama_front.jpg"))
    assert frame is not None
    found = detect(frame, models)
    first, second = embed(found, found.faces[0], models), embed(found, found.faces[0], models)
    assert first.shape == (128,) and np.array_equal(first, second)
    mirrored = detect(cv2.flip(frame, 1), models)
    assert compare(first, embed(mirrored, mirrored.faces[0], models), THRESHOLD).distance < 0.2


def test_unusable_id_photos_give_no_embedding() -> None:
    """Empty bytes, bytes that are not an image, and a photo without a face cannot be verified."""
    models = get_models()
    assert photo_embedding(b"", models) is None
    assert photo_embedding(b"\xff\xd8 not really a jpeg", models) is None
    assert photo_embedding(photo("cam_no_face.jpg"), models) is None


def test_haar_detector_finds_the_same_face() -> None:
    """The optional Haar detector gives landmarks good enough for an embedding close to the HOG one."""
    models = get_models()
    frame = decode_photo(photo("cam_obama_front.jpg"))
    assert frame is not None
    hog, haar = detect(frame, models), detect(frame, models, "haar")
    assert len(hog.faces) == len(haar.faces) == 1
    assert compare(embed(hog, hog.faces[0], models), embed(haar, haar.faces[0], models), THRESHOLD).distance < 0.1
