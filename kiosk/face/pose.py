"""Head pose cues from the 68 dlib landmarks that a flat photo cannot fake by moving in front of the camera.

The yaw index is the nose tip's coordinate along the eye line, in the affine frame spanned by the two eye
centres and the chin. Affine maps preserve such coordinates, so a printed or on-screen photo that is shifted,
scaled, rotated in the image plane, or tilted (which is close to affine at arm's length) keeps the same
index; a real head turning moves the protruding nose against that frame. 0 is frontal; positive means the
nose points towards the image's right (the subject's own left in an unmirrored camera frame).

Measured on the stock frames: frontal → turned about ±0.14–0.18 for a real head; a photo moved in the image
plane wanders ±0.02, tilted up to 35° about ±0.04. Perspective is not affine: a print turned 45° or more close
to the lens can move single frames by up to about 0.15, which is why a turn must hold for several frames.
"""

from __future__ import annotations

import numpy as np

LEFT_EYE = slice(36, 42)  # image-left eye (the subject's right eye)
RIGHT_EYE = slice(42, 48)
NOSE_TIP = 30
CHIN = 8


def yaw_index(points: np.ndarray) -> float:
    """The nose tip's affine coordinate along the eye line (≈ -0.25 … 0.25 over a comfortable head turn)."""
    left, right = points[LEFT_EYE].mean(axis=0), points[RIGHT_EYE].mean(axis=0)
    middle = (left + right) / 2
    frame = np.column_stack([right - left, points[CHIN] - middle])
    along, _down = np.linalg.solve(frame, points[NOSE_TIP] - middle)
    return float(along)


def eye_aspect_ratio(points: np.ndarray) -> float:
    """Mean eye aspect ratio (Soukupová & Čech 2016): about 0.3 open, under 0.15 closed."""
    return (_ear(points[LEFT_EYE]) + _ear(points[RIGHT_EYE])) / 2


def _ear(eye: np.ndarray) -> float:
    """One eye's ratio of the two vertical lid distances to the horizontal corner distance."""
    vertical = np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4])
    return float(vertical / (2 * np.linalg.norm(eye[0] - eye[3])))
