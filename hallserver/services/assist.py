"""呼叫工作人员: help requests from kiosks, kept in memory for the manager console (no personal data)."""

from __future__ import annotations

import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

log = logging.getLogger("hallq.assist")
KEEP = 200  # the newest requests kept; older ones are in the log


@dataclass(frozen=True)
class AssistCall:
    """One request for help at a device: where, when and why — never who."""

    id: int
    device_id: str
    device_name: str
    location: str
    at: datetime
    reason: str | None = None
    screen: str | None = None
    elderly: bool = False
    acknowledged_by: str | None = None

    def public(self) -> dict[str, Any]:
        """JSON-able form for the console."""
        out = asdict(self)
        out["at"] = self.at.isoformat()
        return out


class AssistDesk:
    """The open help requests of one hall (thread-safe: the gateway worker writes, REST reads)."""

    def __init__(self, keep: int = KEEP) -> None:
        self._calls: deque[AssistCall] = deque(maxlen=keep)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        # How many floor consoles are open right now (the live floor sets it when it starts): after hours a
        # request alerts only a console someone is watching.
        self.watching: Callable[[], int] = lambda: 0

    def staffed(self) -> bool:
        """True when a floor console is open to see a request now."""
        return self.watching() > 0

    def record(self, device_id: str, device_name: str, location: str, at: datetime, **details: Any) -> AssistCall:
        """Add a request and log it for the staff on duty."""
        with self._lock:
            call = AssistCall(next(self._ids), device_id, device_name, location, at, **details)
            self._calls.append(call)
        log.warning("assist: %s（%s）请求工作人员协助：%s", device_name, location, call.reason or "未说明原因")
        return call

    def acknowledge(self, call_id: int, staff: str) -> AssistCall | None:
        """Mark a request as taken by a staff member; None when unknown."""
        with self._lock:
            for index, call in enumerate(self._calls):
                if call.id == call_id:
                    taken = AssistCall(**{**asdict(call), "acknowledged_by": staff})
                    self._calls[index] = taken
                    return taken
        return None

    def recent(self, open_only: bool = False) -> list[AssistCall]:
        """Newest first."""
        with self._lock:
            calls = list(reversed(self._calls))
        return [c for c in calls if not (open_only and c.acknowledged_by)]
