"""Face check-in for the kiosk: capture, detection, liveness, 1:1 verification against the ID-card photo.

Importing this package loads OpenCV and numpy but no model: the dlib models load on the first check-in.
"""

from kiosk.face.capture import FrameSource, open_source
from kiosk.face.checkin import FaceCheckin, FaceOutcome, FaceSettings

__all__ = ["FaceCheckin", "FaceOutcome", "FaceSettings", "FrameSource", "open_source"]
