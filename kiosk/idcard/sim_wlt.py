"""The simulator's stand-in for WLT photos. NOT real WLT compression: the 1024-byte blob is a marker, then
JSON naming the identity key and its stock photo file, then zero padding. `decode` is a photo decoder
plug-in (`kiosk.idcard.sim_wlt:decode`) returning that photo file's bytes, so the face check-in can compare
a live face against a real image in demos and tests. Relative photo names are looked up in
kiosk/sim_assets/faces/."""

from __future__ import annotations

import json
from pathlib import Path

WLT_LEN = 1024
MARKER = b"HALLQ-SIM-WLT/1\n"
FACES_DIR = Path(__file__).resolve().parent.parent / "sim_assets" / "faces"


class SimPhotoMissing(LookupError):
    """The blob is not a simulator blob, or its photo file is not there."""


def encode(key: str, photo: str) -> bytes:
    """The 1024-byte blob a simulated card carries."""
    body = MARKER + json.dumps({"key": key, "photo": photo}, ensure_ascii=False).encode("utf-8")
    if len(body) > WLT_LEN:
        raise ValueError(f"photo reference of identity {key!r} is too long for a {WLT_LEN}-byte blob")
    return body.ljust(WLT_LEN, b"\x00")


def reference(wlt: bytes) -> tuple[str, str]:
    """(identity key, photo file name) of a simulator blob."""
    if not wlt.startswith(MARKER):
        raise SimPhotoMissing("not a simulator WLT blob (a real card needs the vendor's decoder)")
    try:
        data = json.loads(wlt[len(MARKER) :].rstrip(b"\x00").decode("utf-8"))
        return str(data["key"]), str(data["photo"])
    except (ValueError, KeyError, TypeError) as exc:
        raise SimPhotoMissing(f"damaged simulator WLT blob: {exc}") from None


def photo_path(photo: str, faces_dir: Path = FACES_DIR) -> Path:
    """Where a photo name points: absolute paths as they are, names inside the faces folder."""
    path = Path(photo)
    return path if path.is_absolute() else faces_dir / path.name


def decode(wlt: bytes) -> bytes:
    """The photo plug-in: the identity's stock image bytes (JPEG); SimPhotoMissing if there is none."""
    _key, photo = reference(wlt)
    path = photo_path(photo)
    try:
        return path.read_bytes()
    except OSError:
        raise SimPhotoMissing(f"stock photo {path.name} not found") from None
