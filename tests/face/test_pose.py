"""The yaw index and eye ratio: invariant to how a flat photo is moved, sensitive to a real head turn."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.face.camera_sim import preset_paths
from kiosk.face.detect import detect
from kiosk.face.liveness import Blink, HeadTurn
from kiosk.face.models import get_models
from kiosk.face.pose import eye_aspect_ratio, yaw_index
from kiosk.face.verify import decode_photo


def landmarks(preset: str, index: int = 0) -> np.ndarray:
    """The 68 landmarks of one stock camera frame."""
    frame = decode_photo(preset_paths(preset)[index].read_bytes())
    assert frame is not None
    found = detect(frame, get_models())
    assert len(found.faces) == 1
    return found.faces[0].points


def test_real_head_poses_order_by_yaw() -> None:
    """Obama turned to his left > frontal > turned to his right, by more than the default threshold."""
    front, left, right = landmarks("live_left", 0), landmarks("live_left", 1), landmarks("live_right", 1)
    assert abs(yaw_index(front)) < 0.05
    assert yaw_index(left) - yaw_index(front) > 0.12
    assert yaw_index(front) - yaw_index(right) > 0.12


@settings(max_examples=200, deadline=None)
@given(
    angle=st.floats(-math.pi, math.pi),
    scale=st.floats(0.2, 5),
    shear=st.floats(-0.5, 0.5),
    squeeze=st.floats(0.3, 1.0),
    shift=st.tuples(st.floats(-500, 500), st.floats(-500, 500)),
)
def test_yaw_index_ignores_any_affine_move(
    angle: float, scale: float, shear: float, squeeze: float, shift: tuple[float, float]
) -> None:
    """Rotating, scaling, shearing, foreshortening or shifting a photo leaves its yaw index unchanged."""
    points = landmarks("live_left", 1)
    c, s = math.cos(angle), math.sin(angle)
    matrix = scale * np.array([[c, -s], [s, c]]) @ np.array([[squeeze, shear], [0, 1]])
    moved = points @ matrix.T + np.array(shift)
    assert abs(yaw_index(moved) - yaw_index(points)) < 1e-9


def test_eye_ratio_falls_when_the_lids_close() -> None:
    """Pulling the lid landmarks to the eye's middle line drops the ratio towards 0; Blink sees close+open."""
    points = landmarks("photo")
    closed = points.copy()
    for eye in (slice(36, 42), slice(42, 48)):
        middle = closed[eye][[0, 3], 1].mean()
        closed[eye.start + 1 : eye.start + 3, 1] = middle
        closed[eye.start + 4 : eye.start + 6, 1] = middle
    assert eye_aspect_ratio(points) > 0.2 and eye_aspect_ratio(closed) < 0.01
    blink = Blink(eye_aspect_ratio(points), 0.7)
    assert [blink.observe(p) for p in (points, closed, closed, points)] == [False, False, False, True]


def test_head_turn_needs_consecutive_frames_the_asked_way() -> None:
    """Left needs positive yaw change (unmirrored camera); a lost face restarts the count; mirroring flips it."""
    front, left, right = landmarks("live_left", 0), landmarks("live_left", 1), landmarks("live_right", 1)
    base = yaw_index(front)
    turn = HeadTurn("left", base, 0.1, 2, mirrored=False)
    assert [turn.observe(p) for p in (front, right, left)] == [False, False, False]
    turn.lost()
    assert [turn.observe(p) for p in (left, left)] == [False, True]
    mirrored = HeadTurn("left", base, 0.1, 1, mirrored=True)
    assert (mirrored.observe(left), mirrored.observe(right)) == (False, True)
