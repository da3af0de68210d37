"""FaceCheckin end to end on the camera simulator with real photos and a virtual clock."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from kiosk.face import prompts
from kiosk.face.camera_sim import Jitter
from kiosk.face.capture import FrameSource
from kiosk.face.checkin import FaceCheckin, FaceSettings
from tests.face.conftest import RunCheckin, photo

OBAMA_ID, BIDEN_ID = photo("id_obama.jpg"), photo("id_biden.jpg")


@pytest.mark.parametrize(("spec", "direction"), [("sim:live_left", "left"), ("sim:live_right", "right")])
def test_live_sequence_of_the_card_holder_is_accepted(run_checkin: RunCheckin, spec: str, direction: str) -> None:
    """Frontal frames, the asked head turn, then a match with the (different) ID photo: accepted."""
    run = run_checkin(spec, OBAMA_ID, turn_direction=direction)
    outcome = run.outcome
    assert outcome.accepted and outcome.liveness_passed and outcome.reason == prompts.PASSED
    assert outcome.distance is not None and outcome.distance <= FaceSettings().threshold
    assert [step for step, _ in run.progress] == ["prepare", "find_face", "find_face", "liveness", "verify", "done"]
    assert prompts.TURN[direction] in run.messages
    assert 0 < outcome.elapsed_ms < 5000  # virtual clock: 10 fps, about one second of frames


def test_random_direction_is_asked_and_met(run_checkin: RunCheckin) -> None:
    """With a random direction, a citizen turning both ways in turn still passes."""
    run = run_checkin("sim:live_both", OBAMA_ID)
    assert run.outcome.accepted


def test_someone_else_than_the_card_holder_is_rejected_with_the_fallback(run_checkin: RunCheckin) -> None:
    """A live Obama against Biden's ID photo: liveness passes, verification fails, the ID card remains."""
    outcome = run_checkin("sim:live_left", BIDEN_ID, turn_direction="left").outcome
    assert not outcome.accepted and outcome.liveness_passed
    assert outcome.distance is not None and outcome.distance > 0.7
    assert outcome.reason == prompts.MISMATCH and "仅凭身份证" in outcome.reason


def test_the_threshold_is_configurable(run_checkin: RunCheckin) -> None:
    """The same live sequence is refused under a stricter threshold than its distance (about 0.34)."""
    accepted = run_checkin("sim:live_left", OBAMA_ID, turn_direction="left").outcome
    strict = run_checkin("sim:live_left", OBAMA_ID, turn_direction="left", threshold=0.3).outcome
    assert accepted.accepted and accepted.distance is not None and accepted.distance > 0.3
    assert not strict.accepted and strict.distance == accepted.distance and strict.reason == prompts.MISMATCH


@pytest.mark.parametrize(
    "jitter",
    [
        Jitter(seed=1),
        Jitter(shift=0.1, scale=0.15, degrees=12, seed=2),
        Jitter(tilt_degrees=30, seed=3),
    ],
    ids=["hand-held", "waved", "tilted"],
)
@pytest.mark.parametrize("direction", ["left", "right"])
def test_a_moved_photo_fails_liveness(run_checkin: RunCheckin, jitter: Jitter, direction: str) -> None:
    """The card holder's own photo, moved about in front of the camera, never meets the head-turn challenge."""
    outcome = run_checkin("sim:photo", OBAMA_ID, hold=1, jitter=jitter, turn_direction=direction).outcome
    assert not outcome.accepted and not outcome.liveness_passed
    assert outcome.step == "liveness" and outcome.reason == prompts.LIVENESS_FAILED
    assert outcome.distance is None


def test_a_still_photo_fails_the_blink_challenge(run_checkin: RunCheckin) -> None:
    """A still photo never blinks."""
    run = run_checkin("sim:photo", OBAMA_ID, jitter=Jitter(seed=4), liveness="blink")
    assert not run.outcome.liveness_passed and run.outcome.reason == prompts.LIVENESS_FAILED
    assert prompts.BLINK in run.messages


def test_turning_the_wrong_way_fails(run_checkin: RunCheckin) -> None:
    """Asked to turn right, a sequence that only turns left does not pass."""
    outcome = run_checkin("sim:live_left", OBAMA_ID, turn_direction="right").outcome
    assert not outcome.liveness_passed and outcome.step == "liveness"


def test_no_face_prompts_to_face_the_camera(run_checkin: RunCheckin) -> None:
    """No face: 请正对摄像头, then the find-face time limit with the ID-card fallback."""
    run = run_checkin("sim:no_face", OBAMA_ID, find_face_timeout_s=3.0)
    assert prompts.LOOK in run.messages
    assert run.outcome.step == "find_face" and run.outcome.reason == prompts.NO_FACE
    assert 3000 <= run.outcome.elapsed_ms < 4000


def test_two_faces_prompt_one_person(run_checkin: RunCheckin) -> None:
    """Two people in the frame: 请一人刷脸, and the outcome says why."""
    run = run_checkin("sim:two_faces", OBAMA_ID, find_face_timeout_s=2.0)
    assert prompts.ONE_PERSON in run.messages
    assert run.outcome.reason == prompts.SEVERAL_FACES and not run.outcome.accepted


def test_a_face_cut_by_the_frame_edge_is_not_used(run_checkin: RunCheckin) -> None:
    """Half a face gives made-up landmarks (a fake yaw): the citizen is asked to move to the centre."""
    run = run_checkin("sim:partial", OBAMA_ID, find_face_timeout_s=2.0)
    assert prompts.CENTRE in run.messages and run.outcome.step == "find_face"


def test_a_second_person_stepping_in_is_not_counted(run_checkin: RunCheckin, assets: Path) -> None:
    """Frames with two faces during the challenge show 请一人刷脸 and do not count towards the turn."""
    spec = ",".join(str(assets / f) for f in ("cam_obama_front.jpg", "cam_two_faces.jpg", "cam_obama_turned_left.jpg"))
    run = run_checkin(spec, OBAMA_ID, turn_direction="left")
    assert run.outcome.accepted
    assert ("liveness", prompts.ONE_PERSON) in run.progress


def test_another_face_meeting_the_challenge_is_rejected(run_checkin: RunCheckin, assets: Path) -> None:
    """Obama frontal, then a different person in the turned pose: the turned face must be the same person."""
    spec = ",".join(str(assets / f) for f in ("cam_obama_front.jpg", "cam_biden_front.jpg"))
    # Biden's natural pose is to Obama's frontal what a slight turn to the left is (yaw +0.09 vs +0.02).
    run = run_checkin(spec, OBAMA_ID, turn_direction="left", yaw_change=0.05)
    assert not run.outcome.accepted and run.outcome.reason == prompts.FACE_CHANGED


def test_without_an_id_photo_nothing_is_verified(run_checkin: RunCheckin) -> None:
    """No photo from the card reader: no camera work at all, told to use the ID card."""
    run = run_checkin("sim:live_left", None)
    assert not run.outcome.accepted and run.outcome.step == "id_photo" and run.outcome.distance is None
    assert run.outcome.reason == prompts.NO_ID_PHOTO and run.frames == 0


def test_an_id_photo_without_a_face_cannot_be_verified(run_checkin: RunCheckin) -> None:
    """Garbage or a faceless picture from the reader ends before the camera starts."""
    for data in (b"garbage", photo("cam_no_face.jpg")):
        run = run_checkin("sim:live_left", data)
        assert run.outcome.reason == prompts.BAD_ID_PHOTO and run.frames == 0


def test_cancel_stops_the_check_in(run_checkin: RunCheckin) -> None:
    """A set cancel event (citizen pressed 返回, idle timeout) ends the run at once."""
    cancel = threading.Event()
    cancel.set()
    run = run_checkin("sim:live_left", OBAMA_ID, cancel=cancel)
    assert run.outcome.step == "cancelled" and run.outcome.reason == prompts.CANCELLED and run.frames == 0


def test_a_camera_without_frames_fails_over_to_the_card(run_checkin: RunCheckin, assets: Path) -> None:
    """A source that stops delivering frames ends with 摄像头无画面 and the fallback."""
    run = run_checkin(str(assets / "cam_obama_front.jpg"), OBAMA_ID, hold=1, loop=False)
    assert run.outcome.step == "camera" and run.outcome.reason == prompts.CAMERA_FAILED


def test_the_whole_check_in_has_a_time_limit(run_checkin: RunCheckin) -> None:
    """The overall timeout wins over the phase limits."""
    run = run_checkin("sim:photo", OBAMA_ID, timeout_s=4.0, find_face_timeout_s=4.0, liveness_timeout_s=4.0)
    assert run.outcome.step == "timeout" and run.outcome.reason == prompts.TIMEOUT
    assert 4000 <= run.outcome.elapsed_ms < 4500


def test_progress_is_reported_on_change_only(run_checkin: RunCheckin) -> None:
    """Dozens of frames with the same problem give one message, not one per frame."""
    run = run_checkin("sim:no_face", OBAMA_ID, find_face_timeout_s=5.0)
    assert run.frames > 40 and run.messages.count(prompts.LOOK) == 1


def test_settings_are_strict() -> None:
    """Unknown keys, wrong types and inconsistent timeouts are refused."""
    with pytest.raises(ValidationError):
        FaceSettings(camera="0", thresh=0.5)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        FaceSettings(threshold="0.5")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        FaceSettings(liveness="none")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="timeout_s"):
        FaceSettings(timeout_s=5.0, liveness_timeout_s=8.0)
    assert FaceSettings.model_validate({"camera": "sim:live_left", "threshold": 0.5}).threshold == 0.5


class BrokenCamera(FrameSource):
    """A camera whose driver fails on read (USB unplugged mid-check-in)."""

    def read(self) -> np.ndarray | None:
        """Fail like a driver would."""
        raise OSError("VIDIOC_DQBUF: No such device")

    def close(self) -> None:
        """Nothing to release."""


def test_an_unexpected_error_falls_back_to_the_card(caplog: pytest.LogCaptureFixture) -> None:
    """An exception inside the check-in becomes an outcome with the fallback, never a crash of the kiosk flow."""
    progress: list[tuple[str, str]] = []
    outcome = FaceCheckin(BrokenCamera(), FaceSettings()).run(OBAMA_ID, lambda *p: progress.append(p))
    assert not outcome.accepted and outcome.step == "error" and outcome.reason == prompts.ERROR
    assert progress[-1] == ("done", prompts.ERROR)
    assert "face check-in error: OSError" in caplog.text
