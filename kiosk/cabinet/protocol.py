"""The framed RS-485 protocol of the cabinet's locker controller board, of the kind common lock-control boards
speak (9600 8N1, one board per address on a shared bus, the host asks and the addressed board answers):

    request  HDR ADDR DOOR FUNC CHK        reply  HDR ADDR DOOR STATE CHK
    CHK = XOR of the four bytes before it

| HDR  | FUNC | request              | reply STATE                                              |
|------|------|----------------------|----------------------------------------------------------|
| 0x8A | 0x11 | unlock DOOR (1..96)  | 0x11 the door sprang open, 0x00 it stayed shut (jammed)  |
| 0x80 | 0x33 | query DOOR (1..96)   | bit 0 door open, bit 1 compartment occupied (infrared)   |

A board stays silent to a frame with a bad checksum, another address, or a door it does not have; the host
retries and then reports the board unreachable. (Vendors differ in header values and in how they report
occupancy: this is the one the cabinet driver and its simulator share, behind `CabinetBoard`.)"""

from __future__ import annotations

from dataclasses import dataclass

UNLOCK = 0x8A
QUERY = 0x80
FUNC = {UNLOCK: 0x11, QUERY: 0x33}
OPENED = 0x11
STAYED_SHUT = 0x00
DOOR_OPEN = 0x01
OCCUPIED = 0x02
FRAME_LEN = 5


def checksum(data: bytes) -> int:
    """XOR of the bytes."""
    value = 0
    for byte in data:
        value ^= byte
    return value


def frame(header: int, address: int, door: int, value: int) -> bytes:
    """One 5-byte frame with its checksum."""
    for name, byte in (("header", header), ("address", address), ("door", door), ("value", value)):
        if not 0 <= byte <= 0xFF:
            raise ValueError(f"{name} {byte} is not a byte")
    body = bytes((header, address, door, value))
    return body + bytes((checksum(body),))


def unlock(address: int, door: int) -> bytes:
    """The host's unlock request."""
    return frame(UNLOCK, address, door, FUNC[UNLOCK])


def query(address: int, door: int) -> bytes:
    """The host's status request."""
    return frame(QUERY, address, door, FUNC[QUERY])


@dataclass(frozen=True)
class Frame:
    """One received frame (request or reply: the same shape)."""

    header: int
    address: int
    door: int
    value: int

    def encode(self) -> bytes:
        """The frame's bytes."""
        return frame(self.header, self.address, self.door, self.value)


class FrameParser:
    """Cuts a byte stream into frames: resynchronises on a header byte, drops frames with a bad checksum
    (counted in `bad_checksums`) one byte at a time, so one damaged frame never swallows the next."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.bad_checksums = 0

    def feed(self, data: bytes) -> list[Frame]:
        """Frames completed by these bytes."""
        self._buffer += data
        out: list[Frame] = []
        while True:
            while self._buffer and self._buffer[0] not in FUNC:
                del self._buffer[0]
            if len(self._buffer) < FRAME_LEN:
                return out
            candidate = bytes(self._buffer[:FRAME_LEN])
            if checksum(candidate[:4]) != candidate[4]:
                self.bad_checksums += 1
                del self._buffer[0]
                continue
            del self._buffer[:FRAME_LEN]
            out.append(Frame(*candidate[:4]))
