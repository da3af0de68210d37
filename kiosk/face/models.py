"""The dlib models, loaded lazily on first use and once per process (the kiosk starts without them)."""

from __future__ import annotations

import importlib.util
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_models: FaceModels | None = None


@dataclass(frozen=True)
class FaceModels:
    """The loaded detector, 68-point landmark predictor and 128-d embedding network."""

    detector: Any  # dlib.fhog_object_detector (HOG + linear SVM frontal face detector)
    landmarks: Any  # dlib.shape_predictor (shape_predictor_68_face_landmarks.dat)
    encoder: Any  # dlib.face_recognition_model_v1 (dlib_face_recognition_resnet_model_v1.dat)
    load_seconds: float


def get_models() -> FaceModels:
    """The process's models, loading them on the first call (thread-safe)."""
    global _models
    if _models is None:
        with _lock:
            if _models is None:
                _models = _load()
    return _models


def models_loaded() -> bool:
    """Whether the models are in memory already (the kiosk's start-up must not load them)."""
    return _models is not None


def _load() -> FaceModels:
    """Read the model files shipped by face_recognition_models (offline, about 100 MB of weights)."""
    t0 = time.perf_counter()
    import dlib  # heavy native import: only here

    folder = model_folder()
    return FaceModels(
        detector=dlib.get_frontal_face_detector(),
        landmarks=dlib.shape_predictor(str(folder / "shape_predictor_68_face_landmarks.dat")),
        encoder=dlib.face_recognition_model_v1(str(folder / "dlib_face_recognition_resnet_model_v1.dat")),
        load_seconds=time.perf_counter() - t0,
    )


def model_folder() -> Path:
    """face_recognition_models' data folder, found without importing it (its __init__ imports pkg_resources)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face_recognition_models is not installed: pip install 'hallq[face]'")
    return Path(next(iter(spec.submodule_search_locations))) / "models"
