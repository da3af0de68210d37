"""Rebuild the derived face images in this folder from the face_recognition 1.3.0 sdist (see ATTRIBUTION.md).

    python kiosk/sim_assets/faces/derive.py /path/to/face_recognition-1.3.0.tar.gz

Every output is a crop (optionally mirrored, resized, or two crops side by side) of one of the sdist's test
photos; nothing is synthesised. Crops are placed from dlib's face detector so a re-run gives the same files.
"""

from __future__ import annotations

import sys
import tarfile
from pathlib import Path

import cv2
import dlib
import numpy as np

HERE = Path(__file__).resolve().parent
PREFIX = "face_recognition-1.3.0/tests/test_images/"
CAM = (640, 480)  # a kiosk camera frame
ID = (102, 126)  # the photo a second-generation ID card reader decodes (WLT → 102×126 BMP)


def load(tar: tarfile.TarFile, name: str) -> np.ndarray:
    """One sdist photo as a BGR array."""
    member = tar.extractfile(PREFIX + name)
    assert member is not None
    image = cv2.imdecode(np.frombuffer(member.read(), np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def face_box(image: np.ndarray) -> tuple[int, int, int, int]:
    """The largest face's box (x, y, w, h) found by dlib's HOG detector."""
    rects = dlib.get_frontal_face_detector()(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), 0)
    best = max(rects, key=lambda r: r.width() * r.height())
    return best.left(), best.top(), best.width(), best.height()


def crop(image: np.ndarray, cx: float, cy: float, w: float, h: float, size: tuple[int, int]) -> np.ndarray:
    """Crop a w×h box centred at (cx, cy), shifted to stay inside the image, resized to size."""
    ih, iw = image.shape[:2]
    w, h = min(w, iw), min(h, ih)
    x0 = int(min(max(cx - w / 2, 0), iw - w))
    y0 = int(min(max(cy - h / 2, 0), ih - h))
    return cv2.resize(image[y0 : y0 + int(h), x0 : x0 + int(w)], size, interpolation=cv2.INTER_AREA)


def camera_frame(image: np.ndarray, face_share: float = 0.32) -> np.ndarray:
    """A head-and-shoulders 640×480 frame where the face box is face_share of the width."""
    x, y, w, h = face_box(image)
    width = w / face_share
    return crop(image, x + w / 2, y + h / 2 + 0.35 * h, width, width * CAM[1] / CAM[0], CAM)


def id_photo(image: np.ndarray) -> np.ndarray:
    """A 102×126 ID-card style portrait: face centred, about 60 % of the width."""
    x, y, w, h = face_box(image)
    width = w / 0.6
    return crop(image, x + w / 2, y + h / 2 + 0.1 * h, width, width * ID[1] / ID[0], ID)


def main(sdist: str) -> None:
    """Write every derived file next to this script."""
    with tarfile.open(sdist) as tar:
        obama, obama2, obama3 = load(tar, "obama.jpg"), load(tar, "obama2.jpg"), load(tar, "obama3.jpg")
        biden, partial = load(tar, "biden.jpg"), load(tar, "obama_partial_face.jpg")
    front, biden_cam = camera_frame(obama), camera_frame(biden)
    outputs = {
        "id_obama.jpg": id_photo(obama3),
        "id_biden.jpg": id_photo(biden),
        "cam_obama_front.jpg": front,
        "cam_obama_turned_right.jpg": camera_frame(obama2),
        "cam_obama_turned_left.jpg": camera_frame(cv2.flip(obama2, 1)),
        "cam_biden_front.jpg": biden_cam,
        "cam_two_faces.jpg": np.hstack([front[:, 160:480], biden_cam[:, 230:550]]),  # two 320-px slices
        "cam_no_face.jpg": crop(obama3, 700, 1700, 1000, 750, CAM),
        "cam_partial_face.jpg": crop(partial, 0, 330, 491, 491 * 3 / 4, CAM),
    }
    for name, image in outputs.items():
        cv2.imwrite(str(HERE / name), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        print(name, image.shape[1], "×", image.shape[0])


if __name__ == "__main__":
    main(sys.argv[1])
