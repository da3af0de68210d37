"""FaceCheckin: the kiosk's face check-in as a pure service (no Kivy), with an injected clock.

One face in front of the camera → a liveness challenge → 1:1 comparison with the ID-card photo. Every failure
ends in an outcome that tells the citizen to continue with the ID card alone: face is never the only way in.
Frames and embeddings live only in memory during run(); nothing is written to disk and nothing personal is
logged (the log line carries the verdict, the distance and the time).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kiosk.face import prompts
from kiosk.face.detect import Detection, Face, detect, inside
from kiosk.face.liveness import make_challenge
from kiosk.face.models import FaceModels, get_models
from kiosk.face.pose import eye_aspect_ratio, yaw_index
from kiosk.face.settings import FaceSettings
from kiosk.face.source import FrameSource
from kiosk.face.verify import compare, embed, photo_embedding

__all__ = ["FaceCheckin", "FaceOutcome", "FaceSettings", "Progress"]

log = logging.getLogger(__name__)
Progress = Callable[[str, str], None]  # (step key, Chinese message)


@dataclass(frozen=True)
class FaceOutcome:
    """The verdict: accepted or not, the Chinese reason to show, the distance if compared, timings."""

    accepted: bool
    reason: str
    distance: float | None
    liveness_passed: bool
    elapsed_ms: int
    step: str = "verify"  # where it ended: id_photo, camera, find_face, liveness, verify, timeout, cancelled, error


class _Stop(Exception):
    """Ends a check-in early with a reason."""

    def __init__(self, reason: str, step: str) -> None:
        """Carry the Chinese reason and the step key."""
        super().__init__(step)
        self.reason, self.step = reason, step


class _Session:
    """The state of one run(): deadlines, cancel flag, last progress message, secrets to wipe."""

    def __init__(self, checkin: FaceCheckin, on_progress: Progress, cancel: threading.Event | None) -> None:
        """Start the overall timer."""
        self.clock, self.on_progress, self.cancel = checkin.clock, on_progress, cancel
        self.start = self.clock()
        self.deadline = self.start + checkin.settings.timeout_s
        self.last: tuple[str, str] | None = None
        self.missing = 0
        self.liveness_passed = False
        self.secrets: list[np.ndarray] = []

    def progress(self, step: str, message: str) -> None:
        """Report a step change (only when the step or message changes, not on every frame)."""
        if (step, message) != self.last:
            self.last = (step, message)
            self.on_progress(step, message)

    def check(self, phase_deadline: float, reason: str, step: str) -> None:
        """Stop on cancel, on the overall timeout, or on the phase's own time limit."""
        if self.cancel is not None and self.cancel.is_set():
            raise _Stop(prompts.CANCELLED, "cancelled")
        now = self.clock()
        if now >= self.deadline:
            raise _Stop(prompts.TIMEOUT, "timeout")
        if now >= phase_deadline:
            raise _Stop(reason, step)

    def keep(self, embedding: np.ndarray) -> np.ndarray:
        """Remember an embedding so it is zeroed when the run ends."""
        self.secrets.append(embedding)
        return embedding

    def elapsed_ms(self) -> int:
        """Milliseconds since run() started, on the injected clock."""
        return round((self.clock() - self.start) * 1000)


class FaceCheckin:
    """Runs face check-ins on one frame source (which the caller opens and closes)."""

    def __init__(
        self,
        source: FrameSource,
        settings: FaceSettings,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        """Keep the parts; no model is loaded until the first run()."""
        self.source, self.settings, self.clock, self._sleep = source, settings, clock, sleep
        self._rng = rng or random.SystemRandom()

    def run(self, id_photo: bytes | None, on_progress: Progress, cancel: threading.Event | None = None) -> FaceOutcome:
        """One check-in against the ID photo bytes (None: no photo, cannot verify). Blocks for seconds: call it
        off the UI thread; on_progress is called from this thread, cancel may be set from any thread."""
        session = _Session(self, on_progress, cancel)
        try:
            distance = self._run(session, id_photo)
            accepted = distance <= self.settings.threshold
            outcome = self._outcome(session, accepted, prompts.PASSED if accepted else prompts.MISMATCH, distance)
        except _Stop as stop:
            outcome = self._outcome(session, False, stop.reason, None, stop.step)
        except Exception as exc:  # a broken camera or model must not block the citizen: the ID card remains
            log.error("face check-in error: %s", type(exc).__name__, exc_info=True)
            outcome = self._outcome(session, False, prompts.ERROR, None, "error")
        finally:
            for secret in session.secrets:
                secret.fill(0.0)
        on_progress("done", outcome.reason)
        log.info(
            "face check-in: accepted=%s step=%s distance=%s liveness=%s elapsed_ms=%d",
            outcome.accepted,
            outcome.step,
            None if outcome.distance is None else round(outcome.distance, 3),
            outcome.liveness_passed,
            outcome.elapsed_ms,
        )
        return outcome

    def _run(self, session: _Session, id_photo: bytes | None) -> float:
        """ID photo embedding, one stable face, the challenge, then the distance live ↔ ID photo."""
        if id_photo is None:
            raise _Stop(prompts.NO_ID_PHOTO, "id_photo")
        session.progress("prepare", prompts.PREPARE)
        models = get_models()
        reference = photo_embedding(id_photo, models, self.settings.detector)
        if reference is None:
            raise _Stop(prompts.BAD_ID_PHOTO, "id_photo")
        session.keep(reference)
        live, yaws, ears = self._find_face(session, models)
        self._liveness(session, models, live, yaws, ears)
        session.progress("verify", prompts.VERIFYING)
        return compare(live, reference, self.settings.threshold).distance

    def _find_face(self, session: _Session, models: FaceModels) -> tuple[np.ndarray, list[float], list[float]]:
        """Wait for `stable_frames` consecutive good frames; embed the last (frontal) one."""
        deadline = self.clock() + self.settings.find_face_timeout_s
        yaws: list[float] = []
        ears: list[float] = []
        session.progress("find_face", prompts.LOOK)
        while True:
            try:
                got = self._good_face(session, models, deadline, prompts.NO_FACE, "find_face")
            except _Stop as stop:
                if stop.step == "find_face" and session.last == ("find_face", prompts.ONE_PERSON):
                    raise _Stop(prompts.SEVERAL_FACES, "find_face") from None
                raise
            if got is None:
                yaws.clear()
                ears.clear()
                continue
            detection, face = got
            yaws.append(yaw_index(face.points))
            ears.append(eye_aspect_ratio(face.points))
            session.progress("find_face", prompts.HOLD)
            if len(yaws) >= self.settings.stable_frames:
                return session.keep(embed(detection, face, models)), yaws, ears

    def _liveness(
        self, session: _Session, models: FaceModels, live: np.ndarray, yaws: list[float], ears: list[float]
    ) -> None:
        """Run the challenge; the face that met it must be the same person as the frontal one."""
        challenge = make_challenge(self.settings, yaws, ears, self._rng)
        deadline = self.clock() + self.settings.liveness_timeout_s
        while True:
            session.progress("liveness", challenge.instruction)
            got = self._good_face(session, models, deadline, prompts.LIVENESS_FAILED, "liveness")
            if got is None:
                challenge.lost()
                continue
            detection, face = got
            if challenge.observe(face.points):
                moved = session.keep(embed(detection, face, models))
                if not compare(moved, live, self.settings.same_face_threshold).same_person:
                    raise _Stop(prompts.FACE_CHANGED, "liveness")
                session.liveness_passed = True
                return

    def _good_face(
        self, session: _Session, models: FaceModels, deadline: float, reason: str, step: str
    ) -> tuple[Detection, Face] | None:
        """The next frame's single, whole, large-enough face; otherwise show why and return None."""
        session.check(deadline, reason, step)
        frame = self.source.read()
        if frame is None:
            session.missing += 1
            if session.missing >= self.settings.max_missing_frames:
                raise _Stop(prompts.CAMERA_FAILED, "camera")
            self._sleep(0.03)
            return None
        session.missing = 0
        detection = detect(frame, models, self.settings.detector, self.settings.max_frame_width)
        problem = self._problem(detection)
        if problem is not None:
            session.progress(step, problem)
            return None
        return detection, detection.faces[0]

    def _problem(self, detection: Detection) -> str | None:
        """The prompt for a frame that cannot be used, or None when it shows exactly one usable face."""
        if not detection.faces:
            return prompts.LOOK
        if len(detection.faces) > 1:
            return prompts.ONE_PERSON
        face = detection.faces[0]
        if not inside(face, detection.size, self.settings.edge_margin):
            return prompts.CENTRE
        scale = 640 / detection.size[0]
        if face.box[2] * scale < self.settings.min_face_px:
            return prompts.CLOSER
        return None

    def _outcome(
        self, session: _Session, accepted: bool, reason: str, distance: float | None, step: str = "verify"
    ) -> FaceOutcome:
        """Build the outcome with the elapsed time."""
        return FaceOutcome(accepted, reason, distance, session.liveness_passed, session.elapsed_ms(), step)
