"""A signed HTTP webhook for a government app or WeChat gateway.

Each message is one POST of JSON to the configured URL with three headers:

- `X-Hallq-Timestamp`: Unix seconds when it was signed;
- `X-Hallq-Signature`: `sha256=` + hex HMAC-SHA256 of `"<timestamp>.<raw body>"` under the shared secret;
- `X-Hallq-Delivery`: the message's idempotency key (the same on every retry: a receiver that saw it answers
  2xx again without sending twice).

The receiver checks the signature with `verify()` and refuses a timestamp more than 5 minutes off. Body:
`{"delivery": key, "template": name, "phone": "13800138000", "text": "…", "hall": id, "ts": RFC 3339}`. The
receiver answers 2xx (accepted), 429/5xx (retry later, Retry-After honoured), any other 4xx (refused).
Use an https:// URL in production: the body carries the phone number."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from hallserver.notify.channels import Channel
from hallserver.services.notify.outbox import Claimed, Outcome

log = logging.getLogger("hallq.notify.webhook")

TIMESTAMP_HEADER = "X-Hallq-Timestamp"
SIGNATURE_HEADER = "X-Hallq-Signature"
DELIVERY_HEADER = "X-Hallq-Delivery"
MAX_SKEW_S = 300


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` over `"<timestamp>.<raw body>"`."""
    mac = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: bytes, headers: Mapping[str, str], body: bytes, now: float | None = None) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent (constant-time compare)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    signature = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not timestamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_SKEW_S:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookChannel(Channel):
    """POSTs each message, signed; `clock` gives Unix seconds (the hall's clock in the server)."""

    name = "webhook"

    def __init__(
        self, url: str, secret: bytes, hall_id: str, timeout_s: float = 5.0, clock: Callable[[], float] = time.time
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError("webhook URL must be http(s)")
        self.url, self.secret, self.hall_id, self.timeout_s, self.clock = url, secret, hall_id, timeout_s, clock

    def send(self, message: Claimed) -> Outcome:
        now = self.clock()
        body = json.dumps(
            {
                "delivery": message.dedup_key,
                "template": message.template,
                "phone": message.phone,
                "text": message.text,
                "hall": self.hall_id,
                "ts": datetime.fromtimestamp(now, UTC).isoformat(),
            },
            ensure_ascii=False,
        ).encode("utf-8")
        timestamp = str(int(now))
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(self.secret, timestamp, body),
                DELIVERY_HEADER: message.dedup_key,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return Outcome("accepted", (f"webhook:{message.outbox_id}",), code=f"http_{response.status}")
        except urllib.error.HTTPError as exc:
            code = f"http_{exc.code}"
            if exc.code == 429 or exc.code >= 500:
                return Outcome("retry", code=code, retry_after_s=_retry_after(exc.headers.get("Retry-After")))
            return Outcome("refused", code=code)
        except (urllib.error.URLError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            return Outcome("down", code=f"unreachable:{type(reason).__name__}"[:60])
        except TimeoutError:
            return Outcome("uncertain", code="timeout")


def _retry_after(value: str | None) -> float | None:
    return float(value) if value and value.isdigit() else None
