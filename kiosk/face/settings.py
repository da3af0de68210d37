"""Face check-in settings, validated strictly once (re-exported by kiosk.face.checkin)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class FaceSettings(BaseModel):
    """Camera, detector, thresholds, liveness challenge and time limits of the kiosk's face check-in."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, title="人脸核验设置 / face check-in")

    camera: str = Field("0", description='Frame source spec: "0" camera index, "sim:live_left", a folder, a video')
    detector: Literal["dlib_hog", "haar"] = Field("dlib_hog", description="Face detector (landmarks always dlib)")
    threshold: float = Field(
        0.55,
        ge=0.3,
        le=0.8,
        description="Largest embedding distance live face ↔ ID photo accepted as the same person (stock photos: "
        "one person frontal 0.34–0.45, any pose ≤ 0.54; two people ≥ 0.75; dlib's LFW value is 0.6)",
    )
    same_face_threshold: float = Field(
        0.65,
        ge=0.3,
        le=0.8,
        description="Largest distance between the frontal face and the face that met the challenge (a turned head "
        "embeds less reliably: one person frontal ↔ turned measured 0.48–0.52; two people ≥ 0.75)",
    )
    liveness: Literal["head_turn", "blink"] = Field("head_turn", description="Challenge against a replayed photo")
    turn_direction: Literal["random", "left", "right"] = Field("random", description="Asked head-turn direction")
    yaw_change: float = Field(
        0.1, gt=0.02, le=0.3, description="Yaw index change that counts as a head turn (a moved photo: ≤ 0.04)"
    )
    blink_ratio: float = Field(0.7, gt=0.3, lt=0.95, description="Eye aspect ratio dip, relative to open eyes")
    turned_frames: int = Field(2, ge=1, le=10, description="Consecutive frames the challenge pose must hold")
    stable_frames: int = Field(3, ge=1, le=30, description="Consecutive good frames before the challenge starts")
    min_face_px: int = Field(90, ge=40, description="Smallest face width (pixels of a 640-wide frame)")
    edge_margin: float = Field(0.02, ge=0, le=0.2, description="Face must stay this share away from the edges")
    max_frame_width: int = Field(640, ge=320, le=1920, description="Frames are downscaled to this width")
    mirrored: bool = Field(False, description="The camera delivers mirror images (swaps left and right)")
    find_face_timeout_s: float = Field(10.0, gt=0, description="Time to present one face")
    liveness_timeout_s: float = Field(8.0, gt=0, description="Time to complete the challenge")
    timeout_s: float = Field(25.0, gt=0, description="Whole check-in limit")
    max_missing_frames: int = Field(30, ge=1, description="Consecutive empty reads before the camera is failed")

    @model_validator(mode="after")
    def _timeouts_fit(self) -> FaceSettings:
        """The whole check-in must leave room for finding a face and the challenge."""
        if self.timeout_s < self.find_face_timeout_s or self.timeout_s < self.liveness_timeout_s:
            raise ValueError("timeout_s must be at least find_face_timeout_s and liveness_timeout_s")
        return self
