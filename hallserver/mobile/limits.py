"""A per-client attempt limit for guessable lookups (case serials), on the hall's injected clock."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class AttemptLimit:
    """At most `attempts` tries per client within `window`; clients are keyed by their address."""

    attempts: int = 5
    window: timedelta = timedelta(minutes=10)
    _seen: dict[str, deque[datetime]] = field(default_factory=dict)

    def allow(self, client: str, now: datetime) -> bool:
        """Record a try; False when the client has used up its tries (the try is not counted then)."""
        if len(self._seen) > 10_000:  # forget idle clients rather than grow without bound
            self._seen = {k: v for k, v in self._seen.items() if v and now - v[-1] < self.window}
        tries = self._seen.setdefault(client, deque())
        while tries and now - tries[0] >= self.window:
            tries.popleft()
        if len(tries) >= self.attempts:
            return False
        tries.append(now)
        return True
