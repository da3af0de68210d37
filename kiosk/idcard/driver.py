"""The SAM_V ID card reader: find → select → read → check, plus presence probing for card-leave detection.

`read_card()` returns None when no card is on the reader and raises a `ReaderError` subclass (with a
Chinese `message`) for everything else that goes wrong. A card stays "halted" after a read: find-card fails
until it leaves the field, so `probe()` asks select-card whether it is still there."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from enum import Enum

from kiosk.idcard import frames
from kiosk.idcard.card import IdCard
from kiosk.idcard.errors import ProtocolError, ReaderError, error_for_status
from kiosk.idcard.link import SamvLink
from kiosk.idcard.parse import parse_text_block
from kiosk.idcard.photo import PhotoDecoder, decode_photo, resolve_decoder

log = logging.getLogger("hallq.idcard.reader")
_REMOVED = (frames.SW_FIND_FAILED, frames.SW_SELECT_FAILED, frames.SW_READ_FAILED)


class Presence(Enum):
    """What a probe found on the reader."""

    ABSENT = "absent"
    HELD = "held"  # a card that was read and has not left the field
    NEW = "new"  # a card that answers find-card: not read yet (or re-placed)


def split_read_reply(data: bytes, with_fingerprint: bool = False) -> tuple[bytes, bytes, bytes]:
    """(text, photo, fingerprint) from a 30 01 / 30 10 reply's data: 2-byte big-endian lengths, then blocks."""
    heads = 3 if with_fingerprint else 2
    if len(data) < 2 * heads:
        raise ProtocolError("read reply shorter than its length fields")
    sizes = [int.from_bytes(data[2 * i : 2 * i + 2], "big") for i in range(heads)]
    if 2 * heads + sum(sizes) != len(data):
        raise ProtocolError(f"read reply lengths {sizes} do not match its {len(data)} bytes")
    blocks, pos = [], 2 * heads
    for size in sizes:
        blocks.append(data[pos : pos + size])
        pos += size
    return blocks[0], blocks[1], blocks[2] if with_fingerprint else b""


class SamvReader:
    """A resident ID card reader on a serial port (a real /dev/ttyUSB0 or the simulator's pty)."""

    def __init__(
        self,
        port: str,
        baudrate: int = 115200,
        photo_decoder: PhotoDecoder | str | None = None,
        *,
        timeout_s: float = 1.0,
        read_timeout_s: float = 3.0,
        retries: int = 2,
        read_appended_address: bool = True,
        with_fingerprint: bool = False,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.link = SamvLink(port, baudrate, timeout_s, retries)
        self.photo_decoder = resolve_decoder(photo_decoder)
        self.read_timeout_s = read_timeout_s
        self.read_appended_address = read_appended_address
        self.with_fingerprint = with_fingerprint  # asks 30 10; the fingerprint itself is never kept
        self.clock = clock or datetime.now
        self._lock = threading.RLock()  # find → select → read is one conversation; the watcher shares us

    @property
    def port(self) -> str:
        """The serial port path."""
        return self.link.port

    def close(self) -> None:
        """Close the serial port."""
        self.link.close()

    # --- the SAM ---

    def reset_sam(self) -> None:
        """Reset the SAM module (10 FF)."""
        self._expect(frames.RESET_SAM, "reset SAM")

    def check_sam(self) -> None:
        """Raise SamError unless the SAM reports itself healthy (11 FF)."""
        self._expect(frames.SAM_STATUS, "SAM status")

    def sam_id(self) -> str:
        """The SAM's id (12 FF) as hex: which module this kiosk has, for the device status."""
        return self._expect(frames.SAM_ID, "SAM id").data.hex().upper()

    # --- cards ---

    def read_card(self) -> IdCard | None:
        """Find, select and read the card on the reader; None when there is none."""
        with self._lock:
            return self._read_card()

    def _read_card(self) -> IdCard | None:
        found = self.link.command(frames.FIND_CARD)
        if found.status in (frames.SW_FIND_FAILED, frames.SW_SELECT_FAILED):
            return None
        if found.status != frames.SW_CARD_FOUND:
            raise error_for_status(found.status, "find card")
        self._expect(frames.SELECT_CARD, "select card")
        command = frames.READ_BASE_FINGERPRINT if self.with_fingerprint else frames.READ_BASE
        reply = self._expect(command, "read card", self.read_timeout_s)
        text, wlt, _fingerprint = split_read_reply(reply.data, self.with_fingerprint)
        card = parse_text_block(text, wlt)  # an invalid card stops here
        appended = self._appended_address()
        today = self.clock().date()
        return replace(
            card, photo=decode_photo(self.photo_decoder, wlt), appended_address=appended, expired=card.expired_on(today)
        )

    def probe(self) -> Presence:
        """Whether a card is on the reader, without reading it."""
        with self._lock:
            return self._probe()

    def _probe(self) -> Presence:
        found = self.link.command(frames.FIND_CARD)
        if found.status == frames.SW_CARD_FOUND:
            return Presence.NEW
        if found.status not in _REMOVED:
            raise error_for_status(found.status, "find card")
        selected = self.link.command(frames.SELECT_CARD)
        if selected.status == frames.SW_OK:
            return Presence.HELD
        if selected.status not in _REMOVED:
            raise error_for_status(selected.status, "select card")
        return Presence.ABSENT

    def _appended_address(self) -> str:
        if not self.read_appended_address:
            return ""
        try:
            reply = self.link.command(frames.READ_APPENDED_ADDRESS, timeout_s=self.read_timeout_s)
        except ReaderError as exc:  # the main read succeeded: an optional extra must not lose the card
            log.info("appended address not read: %s", exc.detail)
            return ""
        if reply.status != frames.SW_OK:
            return ""  # 91: nothing endorsed
        return reply.data.decode("utf-16-le", errors="replace").replace("\x00", " ").strip()

    def _expect(self, command: tuple[int, int], stage: str, timeout_s: float | None = None) -> frames.Response:
        reply = self.link.command(command, timeout_s=timeout_s)
        if reply.status != frames.SW_OK:
            raise error_for_status(reply.status, stage)
        return reply
