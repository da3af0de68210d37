"""What an action changed, so the bus can publish exactly the state that moved."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PrintOrder:
    """A document to send to a printer device after the transaction committed."""

    printer: str
    job_id: str
    kind: str
    document: dict[str, Any]
    origin: str | None = None  # the device to tell if printing fails


@dataclass
class Effects:
    """Changes made by one action; published after commit."""

    windows: set[str] = field(default_factory=set)
    queue: bool = False
    calls: list[tuple[int, str]] = field(default_factory=list)  # (ticket id, window id)
    prints: list[PrintOrder] = field(default_factory=list)
    prompts: list[int] = field(default_factory=list)  # visits whose window's evaluator should ask for a rating
    answered: list[tuple[str, int]] = field(default_factory=list)  # (window, visit) rated: clear that prompt

    def window(self, window_id: str, queue: bool = True) -> Effects:
        """Mark a window (and by default the queue) as changed."""
        self.windows.add(window_id)
        self.queue = self.queue or queue
        return self

    @property
    def empty(self) -> bool:
        """True when nothing needs publishing."""
        return not (self.windows or self.queue or self.calls or self.prints or self.prompts or self.answered)
