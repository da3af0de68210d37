"""The upload's signature: HMAC-SHA256 over `timestamp \\n batch id \\n body`, in headers, so the platform
knows the sender and that nothing changed on the way; the timestamp bounds replays."""

from __future__ import annotations

import hashlib
import hmac

SENDER = "X-Hallq-Sender"
TIMESTAMP = "X-Hallq-Timestamp"
BATCH = "X-Hallq-Batch"
SIGNATURE = "X-Hallq-Signature"
MAX_SKEW_S = 300


def signature(key: bytes, timestamp: str, batch_id: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of the signed text."""
    return hmac.new(
        key, timestamp.encode("ascii") + b"\n" + batch_id.encode("ascii") + b"\n" + body, hashlib.sha256
    ).hexdigest()


def headers(key: bytes, sender: str, batch_id: str, body: bytes, now_s: int) -> dict[str, str]:
    """The headers of one signed upload."""
    stamp = str(now_s)
    return {SENDER: sender, TIMESTAMP: stamp, BATCH: batch_id, SIGNATURE: signature(key, stamp, batch_id, body)}


def verify(key: bytes, given: dict[str, str], body: bytes, now_s: int) -> str | None:
    """None when the signature holds and the timestamp is fresh, else why not (English, for the log)."""
    stamp, batch_id, sig = given.get(TIMESTAMP, ""), given.get(BATCH, ""), given.get(SIGNATURE, "")
    if not stamp.isdigit() or not sig or not batch_id.isascii():
        return "missing signature headers"
    if abs(now_s - int(stamp)) > MAX_SKEW_S:
        return "timestamp outside the allowed window"
    if not hmac.compare_digest(signature(key, stamp, batch_id, body), sig):
        return "bad signature"
    return None
