"""绿色通道 staff confirmation: a kiosk asked for a green-channel ticket for a reason its ID card cannot prove
(残疾人, 孕妇 …); a staff member on the floor looks, then confirms (the server issues the L ticket for the card
read at that kiosk) or declines. Pending requests live minutes, so they are kept in the server process; the
assist request recorded alongside is the lasting record. The identity never leaves the server: the console
sees a masked name only."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hallcore.commands import Identity
from hallcore.errors import Conflict, HallError, NotFound
from hallcore.identity import mask_name

WAIT = timedelta(minutes=3)  # after this the kiosk tells the citizen nobody came; staff can no longer confirm
KEEP = 100  # pending requests at most (a hall has a handful of kiosks)


@dataclass(frozen=True)
class GreenRequest:
    """One pending request: where, why, and (server-side only) for whom."""

    id: int
    device_id: str
    device_name: str
    location: str
    reason: str
    identity: Identity
    at: datetime
    assist_id: int | None = None  # the 呼叫工作人员 record, acknowledged when staff answer

    def expires_at(self) -> datetime:
        """When the kiosk stops waiting."""
        return self.at + WAIT

    def public(self) -> dict[str, Any]:
        """What the console shows: never the ID number, the name masked."""
        name = self.identity.name
        return {
            "id": self.id,
            "device_id": self.device_id,
            "device_name": self.device_name,
            "location": self.location,
            "reason": self.reason,
            "masked_name": mask_name(name) if name else None,
            "at": self.at.isoformat(),
            "expires_at": self.expires_at().isoformat(),
        }


class GreenDesk:
    """The pending green-channel requests of one hall (thread-safe: the gateway worker adds, REST takes)."""

    def __init__(self) -> None:
        self._pending: dict[int, GreenRequest] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(
        self,
        device_id: str,
        device_name: str,
        location: str,
        reason: str,
        identity: Identity,
        at: datetime,
        assist_id: int | None = None,
    ) -> GreenRequest:
        """A kiosk asks; an earlier request of the same kiosk is replaced (one citizen at a kiosk at a time)."""
        with self._lock:
            self._drop_old(at)
            for old in [r for r in self._pending.values() if r.device_id == device_id]:
                del self._pending[old.id]
            if len(self._pending) >= KEEP:
                raise HallError("unavailable", "待核实的绿色通道请求过多，请到绿色通道窗口办理")
            request = GreenRequest(next(self._ids), device_id, device_name, location, reason, identity, at, assist_id)
            self._pending[request.id] = request
            return request

    def pending(self, now: datetime) -> list[GreenRequest]:
        """Still waiting, oldest first."""
        with self._lock:
            self._drop_old(now)
            return sorted(self._pending.values(), key=lambda r: r.at)

    def take(self, request_id: int, now: datetime) -> GreenRequest:
        """Remove a request to confirm or decline it: `not_found` when unknown or already handled, `expired`
        when the kiosk gave up waiting."""
        with self._lock:
            request = self._pending.pop(request_id, None)
        if request is None:
            raise NotFound(f"没有编号为 {request_id} 的待核实绿色通道请求（可能已由其他工作人员处理）")
        if now >= request.expires_at():
            raise Conflict("expired", "该请求已超时，群众可能已离开自助机")
        return request

    def cancel(self, request_id: int, device_id: str) -> GreenRequest | None:
        """The kiosk that asked withdraws its request (the citizen left): the request, or None when it was
        already answered or expired. Another kiosk's request is `not_found`, as if it did not exist."""
        with self._lock:
            request = self._pending.get(request_id)
            if request is not None and request.device_id != device_id:
                raise NotFound(f"本机没有编号为 {request_id} 的绿色通道请求")
            return self._pending.pop(request_id, None)

    def put_back(self, request: GreenRequest) -> None:
        """A confirmation that failed (e.g. outside hours) leaves the request pending."""
        with self._lock:
            self._pending.setdefault(request.id, request)

    def _drop_old(self, now: datetime) -> None:
        for old in [r for r in self._pending.values() if now >= r.expires_at()]:
            del self._pending[old.id]
