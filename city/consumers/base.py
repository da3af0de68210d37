"""The consumer interface an ingest worker drives: take a batch, store it, send acks, then settle it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from city.store import Incoming


@dataclass(frozen=True)
class Delivery:
    """One message from the broker and the transport's handle to settle it (a packet id, a delivery tag)."""

    message: Incoming
    handle: Any = None


class Consumer(ABC):
    """A transport for one ingest worker. Several workers compete for the same messages through the
    engine's own mechanism; a message is settled only after the database committed it, so a worker that
    dies leaves its unsettled messages to the broker (and the halls resend anything unacknowledged)."""

    threadsafe_acks = False  # whether acknowledge() may be called from another thread (the acker's)

    @abstractmethod
    def connect(self) -> None:
        """Connect and start receiving (returns once the subscription or queue is set up)."""

    @abstractmethod
    def take(self, max_n: int, max_wait_s: float) -> list[Delivery]:
        """Up to max_n messages: waits at most max_wait_s for the first, then takes what is already there."""

    @abstractmethod
    def settle(self, deliveries: list[Delivery]) -> None:
        """Tell the broker these messages are done with (after the commit)."""

    @abstractmethod
    def acknowledge(self, hall: str, upto: int, ts: datetime) -> None:
        """Publish `hall/{hall}/sync/ack` {upto, ts} to the hall (QoS 1)."""

    @abstractmethod
    def close(self) -> None:
        """Disconnect, keeping the broker-side session or queue for the next start."""

    @property
    def connected(self) -> bool:
        """Whether the transport is up right now (for health and tests)."""
        return True
