"""A SAM_V ID card reader on a pseudo-terminal, answering the same byte frames a real one does, from a file
of test identities. Open `port` with pyserial like /dev/ttyUSB0. Control it with insert(key), remove() and
fault(kind) — from tests directly, or from a person or a demo kiosk through control.py's TCP socket.

Card states follow HARDWARE.md: find-card succeeds for a card newly in the field; after a read the card is
halted and find-card fails until it leaves, while select-card still reaches it."""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
from pathlib import Path
from typing import Self

from kiosk.evaluator.serialport import make_raw
from kiosk.idcard import frames
from kiosk.idcard.frames import Frame, FrameParser
from kiosk.idcard.identities import SimIdentity, load_identities

log = logging.getLogger("hallq.idcard.simulator")

FAULTS = {
    "bad_checksum": "the next reply has a wrong checksum",
    "bad_checksum_always": "every reply has a wrong checksum until cleared",
    "garbled_request": "the next request arrives damaged: the module answers SW3 10 (bad checksum)",
    "no_card": "the reader sees no card even if one is inserted, until cleared",
    "remove_mid_read": "the card leaves the field between select and read (once)",
    "sam_failure": "the SAM fails its self-test: every command answers 60, until cleared",
    "silent": "no reply at all, until cleared",
}
SAM_ID = bytes.fromhex("0501000020260001000000010000AB01")  # 16 bytes, recognisably fake
_FOUND_DATA = bytes(4)
_SELECT_DATA = bytes(8)


class IdCardSimulator:
    """The reader's end of a pty, served by a background thread from construction until close()."""

    def __init__(self, identities_file: Path | None = None, baudrate: int = 115200) -> None:
        self.identities: dict[str, SimIdentity] = load_identities(identities_file)
        self.master, self._slave = os.openpty()
        make_raw(self._slave, baudrate)  # no echo, no CR/LF mangling: bytes pass untouched
        make_raw(self.master, baudrate)
        self.port = os.ttyname(self._slave)
        self.requests: list[tuple[int, int]] = []  # every command received, in order
        self._lock = threading.Lock()
        self._card: str | None = None
        self._halted = False
        self._selected = False
        self._faults: set[str] = set()
        self._parser = FrameParser()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="idcard-sim", daemon=True)
        self._thread.start()

    # --- control ---

    def insert(self, key: str) -> None:
        """Put an identity's card on the reader (replacing any card there)."""
        if key not in self.identities:
            raise KeyError(f"no identity {key!r} (known: {', '.join(self.identities)})")
        with self._lock:
            self._card, self._halted, self._selected = key, False, False

    def remove(self) -> None:
        """Take the card away."""
        with self._lock:
            self._card, self._halted, self._selected = None, False, False

    def fault(self, kind: str) -> None:
        """Inject a fault (see FAULTS); "none" clears them all."""
        if kind == "none":
            self.clear_faults()
            return
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r} (known: {', '.join(FAULTS)}, none)")
        with self._lock:
            self._faults.add(kind)

    def clear_faults(self) -> None:
        """Back to a healthy reader."""
        with self._lock:
            self._faults.clear()

    @property
    def card(self) -> str | None:
        """The key of the card on the reader, if any."""
        with self._lock:
            return self._card

    @property
    def faults(self) -> set[str]:
        """The faults in force."""
        with self._lock:
            return set(self._faults)

    def close(self) -> None:
        """Stop answering and close both ends of the pty."""
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- the line ---

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self.master], [], [], 0.1)
                if not ready:
                    continue
                chunk = os.read(self.master, 4096)
            except OSError:  # closed under us
                return
            for frame in self._parser.feed(chunk):
                reply = self._answer(frame)
                if reply is not None:
                    self._write(reply)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self._stop.is_set():
            try:
                view = view[os.write(self.master, view) :]
            except OSError:
                return

    def _answer(self, frame: Frame) -> bytes | None:
        with self._lock:
            self.requests.append(frame.command)
            if "silent" in self._faults:
                return None
            corrupt = bool(self._faults & {"bad_checksum", "bad_checksum_always"})
            self._faults.discard("bad_checksum")
            garbled = "garbled_request" in self._faults
            self._faults.discard("garbled_request")
            if not frame.valid or garbled:
                status, data = frames.SW_BAD_CHECKSUM, b""
            elif "sam_failure" in self._faults:
                status, data = frames.SW_SAM_SELF_TEST, b""
            else:
                status, data = self._execute(frame.command)
        return frames.encode_response(status, data, corrupt=corrupt)

    def _execute(self, command: tuple[int, int]) -> tuple[int, bytes]:
        """(SW3, data) for one command; the lock is held."""
        identity = None if "no_card" in self._faults or self._card is None else self.identities[self._card]
        if command in (frames.RESET_SAM, frames.SAM_STATUS):
            return frames.SW_OK, b""
        if command == frames.SAM_ID:
            return frames.SW_OK, SAM_ID
        if command == frames.FIND_CARD:
            if identity is None or self._halted:
                return frames.SW_FIND_FAILED, b""
            self._selected = False
            return frames.SW_CARD_FOUND, _FOUND_DATA
        if command == frames.SELECT_CARD:
            if identity is None:
                return frames.SW_SELECT_FAILED, b""
            self._selected = True
            return frames.SW_OK, _SELECT_DATA
        if command in (frames.READ_BASE, frames.READ_BASE_FINGERPRINT, frames.READ_APPENDED_ADDRESS):
            return self._read(command, identity)
        return frames.SW_BAD_COMMAND, b""

    def _read(self, command: tuple[int, int], identity: SimIdentity | None) -> tuple[int, bytes]:
        if identity is None or not self._selected:
            return frames.SW_READ_FAILED, b""
        if "remove_mid_read" in self._faults:
            self._faults.discard("remove_mid_read")
            self._card, self._halted, self._selected = None, False, False
            return frames.SW_READ_FAILED, b""
        assert self._card is not None
        if command == frames.READ_APPENDED_ADDRESS:
            if not identity.appended_address:
                return frames.SW_ITEM_EMPTY, b""
            return frames.SW_OK, identity.appended_address_bytes()
        text, wlt = identity.text_block(), identity.wlt(self._card)
        heads = len(text).to_bytes(2, "big") + len(wlt).to_bytes(2, "big")
        if command == frames.READ_BASE_FINGERPRINT:
            heads += bytes(2)  # no fingerprint on simulated cards
        self._halted = True
        return frames.SW_OK, heads + text + wlt
