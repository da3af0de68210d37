"""Upload pending batches to the provincial platform over signed HTTPS, with retries and a log of every try.

A batch is sent with its id; the platform stores a batch id once, so a retry after a lost answer stores
nothing twice. Outcomes: 200 → `sent` (every record accepted) or `partial` (the platform named the records
and fields it refused); 400/409/413/422 → `rejected` (the batch itself is wrong: retrying cannot help);
anything else — unreachable, timeout, TLS failure, 5xx, 401, 429 — stays `pending` and is retried later,
each wait twice the last (retry_base_s … retry_max_s)."""

from __future__ import annotations

import json
import logging
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, or_, select, update

from city.platform import signing
from city.platform.export import body_bytes
from city.platform.settings import PlatformSettings
from city.platform.tables import platform_batch, platform_upload_log
from hallcore.clock import Clock

log = logging.getLogger("hallq.city.platform")
FINAL_4XX = {400, 409, 413, 422}
RESPONSE_LIMIT = 4000


@dataclass(frozen=True)
class Attempt:
    """One try at one batch."""

    batch_id: str
    attempt: int
    status: int | None
    state: str  # the batch's state afterwards
    response: str


class Uploader:
    """Sends the due batches of the city's database to the platform."""

    def __init__(self, engine: Engine, settings: PlatformSettings, clock: Clock) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.key = settings.secret()
        self.context = ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)

    def due(self) -> list[str]:
        """Pending batches whose next attempt is due, oldest first."""
        now = self.clock.now()
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(platform_batch.c.batch_id)
                .where(
                    platform_batch.c.state == "pending",
                    or_(platform_batch.c.next_attempt_at.is_(None), platform_batch.c.next_attempt_at <= now),
                )
                .order_by(platform_batch.c.created_at, platform_batch.c.batch_id)
            ).all()
        return [r.batch_id for r in rows]

    def run(self) -> list[Attempt]:
        """Try every due batch once; stop early when the platform is unreachable (the rest wait their turn)."""
        out = []
        for batch_id in self.due():
            attempt = self.send(batch_id)
            out.append(attempt)
            if attempt.status is None:
                break
        return out

    def send(self, batch_id: str) -> Attempt:
        """One signed POST of one batch, its outcome stored and logged."""
        with self.engine.connect() as conn:
            row = conn.execute(select(platform_batch).where(platform_batch.c.batch_id == batch_id)).one()
        body = body_bytes(row.batch_id, self.settings.sender, row.month, list(row.body))
        number = row.attempts + 1
        now = self.clock.now()
        headers = signing.headers(self.key, self.settings.sender, batch_id, body, int(now.timestamp()))
        status, response = self._post(body, headers)
        state, next_at = self._outcome(status, response, number, now)
        with self.engine.begin() as conn:
            conn.execute(
                update(platform_batch)
                .where(platform_batch.c.batch_id == batch_id)
                .values(
                    state=state,
                    attempts=number,
                    next_attempt_at=next_at,
                    sent_at=now if state in ("sent", "partial") else None,
                    last_status=status,
                    last_response=response[:RESPONSE_LIMIT],
                )
            )
            conn.execute(
                insert(platform_upload_log).values(
                    batch_id=batch_id, at=now, attempt=number, status=status, response=response[:RESPONSE_LIMIT]
                )
            )
        level = logging.INFO if state in ("sent", "pending") else logging.WARNING
        log.log(level, "platform batch %s attempt %d: %s → %s", batch_id, number, status or "unreachable", state)
        return Attempt(batch_id, number, status, state, response)

    def _post(self, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
        request = urllib.request.Request(
            self.settings.url, data=body, method="POST", headers={**headers, "Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout_s, context=self.context) as answer:
                return answer.status, answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as exc:  # refused, reset, timeout, certificate not trusted
            return None, f"{type(exc).__name__}: {exc}"

    def _outcome(self, status: int | None, response: str, number: int, now: datetime) -> tuple[str, datetime | None]:
        if status == 200:
            try:
                rejected = json.loads(response).get("rejected") or []
            except (ValueError, AttributeError):
                rejected = []
            return ("partial" if rejected else "sent"), None
        if status in FINAL_4XX:
            return "rejected", None
        wait = min(self.settings.retry_base_s * 2 ** (number - 1), self.settings.retry_max_s)
        return "pending", now + timedelta(seconds=wait)


def status(engine: Engine, month: str | None = None) -> list[dict[str, object]]:
    """Every batch (of a month) with its state, attempts and last answer."""
    query = select(platform_batch).order_by(platform_batch.c.batch_id)
    if month:
        query = query.where(platform_batch.c.month == month)
    with engine.connect() as conn:
        return [
            {
                "batch_id": r.batch_id,
                "month": r.month,
                "records": r.records,
                "state": r.state,
                "attempts": r.attempts,
                "next_attempt_at": r.next_attempt_at.isoformat() if r.next_attempt_at else None,
                "last_status": r.last_status,
            }
            for r in conn.execute(query)
        ]
