"""Short-lived, single-use stream tickets: EventSource cannot send an Authorization header, and a
long-lived login token must never appear in a URL (server logs, browser history). An authenticated POST
buys a ticket valid for a few seconds; opening the stream spends it."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

TICKET_TTL_S = 30.0
P = TypeVar("P")


class StreamTickets(Generic[P]):
    """Tickets → whoever bought them, kept only as SHA-256 and only until spent or expired."""

    def __init__(self, ttl_s: float = TICKET_TTL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._tickets: dict[str, tuple[P, float]] = {}
        self._lock = threading.Lock()

    def issue(self, principal: P) -> str:
        """A fresh ticket for this principal."""
        ticket = secrets.token_urlsafe(24)
        now = self._clock()
        with self._lock:
            self._tickets = {k: v for k, v in self._tickets.items() if v[1] > now}  # drop expired ones
            self._tickets[_digest(ticket)] = (principal, now + self.ttl_s)
        return ticket

    def redeem(self, ticket: str) -> P | None:
        """The principal behind a valid ticket, spending it; None when unknown, spent or expired."""
        with self._lock:
            entry = self._tickets.pop(_digest(ticket), None)
        if entry is None or entry[1] <= self._clock():
            return None
        return entry[0]


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode("ascii", "ignore")).hexdigest()
