"""SAM_V frames (GA 467 / HARDWARE.md): `AA AA AA 96 69 | LEN_H LEN_L | payload | CHK`.

A request's payload is `CMD PARA DATA`, a response's is `SW1 SW2 SW3 DATA`. LEN is big-endian and counts
every byte after itself, CHK included; CHK is the XOR of every byte from LEN_H to the last data byte."""

from __future__ import annotations

from dataclasses import dataclass

PREAMBLE = bytes.fromhex("AAAAAA9669")
MAX_LEN = 0x1000  # the longest reply (text + photo + fingerprint) is 0x090A; longer is noise

# commands (CMD, PARA)
RESET_SAM = (0x10, 0xFF)
SAM_STATUS = (0x11, 0xFF)
SAM_ID = (0x12, 0xFF)
FIND_CARD = (0x20, 0x01)
SELECT_CARD = (0x20, 0x02)
READ_BASE = (0x30, 0x01)  # text + photo
READ_APPENDED_ADDRESS = (0x30, 0x03)
READ_BASE_FINGERPRINT = (0x30, 0x10)  # text + photo + fingerprint

# SW3 status codes
SW_OK = 0x90
SW_CARD_FOUND = 0x9F
SW_BAD_CHECKSUM = 0x10
SW_BAD_LENGTH = 0x11
SW_BAD_COMMAND = 0x21
SW_NOT_AUTHORISED = 0x23
SW_AUTH_FAILED = 0x31
SW_AUTH_FAILED_2 = 0x32
SW_CHECK_FAILED = 0x33
SW_UNKNOWN_CARD = 0x40
SW_READ_FAILED = 0x41
SW_FIND_FAILED = 0x80
SW_SELECT_FAILED = 0x81
SW_ITEM_EMPTY = 0x91
SW_SAM_SELF_TEST = 0x60
SW_SAM_NOT_AUTHORISED = 0x66


def checksum(length_and_payload: bytes) -> int:
    """XOR of LEN_H, LEN_L and the payload."""
    value = 0
    for byte in length_and_payload:
        value ^= byte
    return value


def encode_frame(payload: bytes, corrupt: bool = False) -> bytes:
    """Wrap a payload; `corrupt` flips the checksum (for the simulator's fault injection)."""
    if len(payload) + 1 > MAX_LEN:
        raise ValueError(f"payload of {len(payload)} bytes is too long for a SAM_V frame")
    body = (len(payload) + 1).to_bytes(2, "big") + payload
    chk = checksum(body) ^ (0xFF if corrupt else 0)
    return PREAMBLE + body + bytes([chk])


def encode_request(cmd: int, para: int, data: bytes = b"") -> bytes:
    """A host → reader frame."""
    return encode_frame(bytes([cmd, para]) + data)


def encode_response(status: int, data: bytes = b"", corrupt: bool = False) -> bytes:
    """A reader → host frame with SW1 SW2 = 00 00 and SW3 = status."""
    return encode_frame(bytes([0x00, 0x00, status]) + data, corrupt)


@dataclass(frozen=True)
class Frame:
    """One frame off the line; `valid` is False when its checksum did not match."""

    payload: bytes
    valid: bool = True

    @property
    def command(self) -> tuple[int, int]:
        """(CMD, PARA) of a request."""
        return (self.payload[0], self.payload[1]) if len(self.payload) >= 2 else (-1, -1)

    @property
    def data(self) -> bytes:
        """DATA of a request."""
        return self.payload[2:]

    def response(self) -> Response:
        """Read this frame as a reply."""
        if len(self.payload) < 3:
            raise ValueError("a reply carries at least SW1 SW2 SW3")
        return Response(self.payload[0], self.payload[1], self.payload[2], self.payload[3:])


@dataclass(frozen=True)
class Response:
    """A reader's reply: status words and data."""

    sw1: int
    sw2: int
    sw3: int
    data: bytes = b""

    @property
    def status(self) -> int:
        """SW3, the code that matters (SW1 SW2 are 00 00 on every reader seen)."""
        return self.sw3


class FrameParser:
    """Turns a byte stream into frames, resynchronising on the preamble after noise. A frame whose checksum
    fails is still returned (valid=False) so the host can ask again rather than wait for a timeout."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.dropped = 0  # bytes skipped while looking for a preamble or after an impossible length

    def feed(self, chunk: bytes) -> list[Frame]:
        """Frames completed by this chunk."""
        self.buffer += chunk
        frames: list[Frame] = []
        while True:
            start = self.buffer.find(PREAMBLE)
            if start < 0:
                keep = len(PREAMBLE) - 1  # a preamble may be split across chunks
                self._drop(max(0, len(self.buffer) - keep))
                return frames
            self._drop(start)
            if len(self.buffer) < 7:
                return frames
            length = int.from_bytes(self.buffer[5:7], "big")
            if not 1 <= length <= MAX_LEN:
                self._drop(1)
                continue
            total = 7 + length
            if len(self.buffer) < total:
                return frames
            body, chk = bytes(self.buffer[5 : total - 1]), self.buffer[total - 1]
            frames.append(Frame(body[2:], valid=checksum(body) == chk))
            del self.buffer[:total]

    def _drop(self, count: int) -> None:
        self.dropped += count
        del self.buffer[:count]
