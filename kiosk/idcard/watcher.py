"""Polls the reader on its own thread and reports what changes: a card presented (once, however long it
stays), the card removed (once), the reader failing (once per distinct fault until a clean poll)."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, Self

from kiosk.idcard.card import IdCard
from kiosk.idcard.driver import Presence
from kiosk.idcard.errors import CardReadError, CardRemovedError, InvalidIdentityError, ReaderError

log = logging.getLogger("hallq.idcard.watcher")


@dataclass(frozen=True)
class CardPresented:
    """A card was read."""

    card: IdCard


@dataclass(frozen=True)
class CardRemoved:
    """The card that was presented has left the reader."""


@dataclass(frozen=True)
class ReaderFault:
    """A read failed or the reader is broken; `message` is for the screen, `kind` the error class."""

    message: str
    kind: str = "ReaderError"


CardEvent = CardPresented | CardRemoved | ReaderFault


class CardSource(Protocol):
    """What the watcher needs from a reader (SamvReader, or a fake in UI tests)."""

    def read_card(self) -> IdCard | None: ...

    def probe(self) -> Presence: ...


def _digest(card: IdCard) -> str:
    # Which card is held, without keeping the number itself in the watcher.
    return hashlib.sha256(f"{card.card_type}:{card.id_number}".encode()).hexdigest()


class CardWatcher:
    """start()/stop() or `with`; `poll_once()` runs one step on the caller's thread."""

    def __init__(self, reader: CardSource, on_event: Callable[[CardEvent], None], interval_s: float = 0.5) -> None:
        self.reader = reader
        self.on_event = on_event
        self.interval_s = interval_s
        self._held: str | None = None  # digest of the card on the reader; "" = a card that failed to read
        self._last_fault: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        """Poll in a background thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="idcard-watcher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop polling (the reader stays open)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._stop.wait(self.interval_s)

    def poll_once(self) -> None:
        """One look at the reader, emitting whatever changed."""
        try:
            if self._held is None:
                self._read()
            else:
                self._check_still_there()
            self._last_fault = None
        except CardRemovedError as exc:
            self._leave()
            self._fault(exc)
        except (CardReadError, InvalidIdentityError) as exc:
            # the card answered but cannot be used: do not read it again until it is taken away
            if self._held:
                self._emit(CardRemoved())
            self._held = ""
            self._fault(exc)
        except ReaderError as exc:
            self._fault(exc)

    def _read(self) -> None:
        card = self.reader.read_card()
        if card is not None:
            self._held = _digest(card)
            self._emit(CardPresented(card))

    def _check_still_there(self) -> None:
        presence = self.reader.probe()
        if presence is Presence.ABSENT:
            self._leave()
        elif presence is Presence.NEW:
            # a reader that lets a held card answer find-card again, or a quick swap: read and compare
            card = self.reader.read_card()
            if card is None:
                self._leave()
            elif _digest(card) != self._held:
                self._leave()
                self._held = _digest(card)
                self._emit(CardPresented(card))

    def _leave(self) -> None:
        if self._held:
            self._emit(CardRemoved())
        self._held = None

    def _fault(self, exc: ReaderError) -> None:
        log.warning("ID card reader: %s", exc.detail)
        if exc.message != self._last_fault:
            self._last_fault = exc.message
            self._emit(ReaderFault(exc.message, type(exc).__name__))

    def _emit(self, event: CardEvent) -> None:
        try:
            self.on_event(event)
        except Exception:  # a handler bug must not stop the watcher
            log.exception("ID card event handler failed")
