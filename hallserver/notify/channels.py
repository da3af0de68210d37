"""The interface every notification channel implements, and what comes back from the network."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from hallserver.services.notify.outbox import Claimed, Outcome


@dataclass(frozen=True)
class Receipt:
    """A delivery receipt: the SMSC's message id and its final state (DELIVRD, UNDELIV, …)."""

    message_id: str
    stat: str


@dataclass(frozen=True)
class Reply:
    """A message a citizen sent back (mobile originated): TD to opt out, a digit to rate."""

    phone: str
    text: str


Inbound = Receipt | Reply


class Channel(ABC):
    """One way to reach citizens. `send` never raises for network trouble: it answers with an Outcome."""

    name: str

    @abstractmethod
    def send(self, message: Claimed) -> Outcome:
        """Hand one message over; accepted, retry later, refused for good, or down."""

    def poll(self) -> list[Inbound]:
        """Receipts and replies that arrived since the last call (none for channels without them)."""
        return []

    def close(self) -> None:  # noqa: B027 - optional for channels without a connection
        """Release the connection."""
