"""RS-485 evaluator key boxes (9600 8N1), the published family in HARDWARE.md:
frame `FF 68 L L 68 ADDR FUNC DATA CS 16`, CS = (ADDR + FUNC + ΣDATA) mod 256. The box sends FUNC 0x11
with the key pressed; the host echoes the frame to acknowledge (the box repeats an unacknowledged press).

Inferred, to verify on real hardware: L counts ADDR, FUNC and DATA (as in the M-Bus long frame this
resembles), and the key values 1..5 map to 非常满意 … 非常不满意 (4-key boxes send 1..4)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.evaluator.serialport import SerialPort

log = logging.getLogger("hallq.evaluator.keybox")

PREAMBLE, START, END = 0xFF, 0x68, 0x16
FUNC_KEY = 0x11
KEY_LEVELS: dict[int, int] = {1: 5, 2: 4, 3: 3, 4: 2, 5: 1}  # key value → level on the wire (5 = 非常满意)


@dataclass(frozen=True)
class Frame:
    """One decoded frame."""

    address: int
    func: int
    data: bytes

    def encode(self) -> bytes:
        """The bytes on the wire."""
        return encode(self.address, self.func, self.data)


def checksum(address: int, func: int, data: bytes) -> int:
    """(ADDR + FUNC + ΣDATA) mod 256."""
    return (address + func + sum(data)) % 256


def encode(address: int, func: int, data: bytes = b"") -> bytes:
    """`FF 68 L L 68 ADDR FUNC DATA CS 16`."""
    if not (0 <= address <= 0xFF and 0 <= func <= 0xFF) or len(data) > 253:
        raise ValueError("address and func are bytes; at most 253 data bytes")
    length = 2 + len(data)
    body = bytes([address, func]) + data
    return bytes([PREAMBLE, START, length, length, START]) + body + bytes([checksum(address, func, data), END])


class FrameParser:
    """Turns a byte stream into frames, resynchronising after noise; counts what it had to drop."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.dropped = 0  # frames with a bad length, checksum or end byte

    def feed(self, chunk: bytes) -> list[Frame]:
        """Frames completed by this chunk."""
        self.buffer += chunk
        frames: list[Frame] = []
        while True:
            start = self.buffer.find(bytes([PREAMBLE, START]))
            if start < 0:
                del self.buffer[: max(0, len(self.buffer) - 1)]  # keep a trailing FF
                return frames
            del self.buffer[:start]
            if len(self.buffer) < 5:
                return frames
            length = self.buffer[2]
            if self.buffer[3] != length or self.buffer[4] != START or length < 2:
                self._skip()
                continue
            total = 5 + length + 2
            if len(self.buffer) < total:
                return frames
            body = bytes(self.buffer[5 : 5 + length])
            cs, end = self.buffer[5 + length], self.buffer[6 + length]
            address, func, data = body[0], body[1], body[2:]
            if end != END or cs != checksum(address, func, data):
                self._skip()
                continue
            frames.append(Frame(address, func, data))
            del self.buffer[:total]

    def _skip(self) -> None:
        self.dropped += 1
        del self.buffer[:1]


@dataclass(frozen=True)
class KeyPress:
    """A citizen pressed a key: which box, which key, what level it means (None: unknown key)."""

    address: int
    key: int
    level: int | None


class KeyBoxDriver:
    """Reads key presses from the serial line on its own thread, acknowledges each, reports it."""

    def __init__(self, port: SerialPort, on_key: Callable[[KeyPress], None], address: int | None = None) -> None:
        self.port = port
        self.on_key = on_key
        self.address = address  # None: any box on the line
        self.parser = FrameParser()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="keybox", daemon=True)

    def start(self) -> None:
        """Start reading."""
        self._thread.start()

    def stop(self) -> None:
        """Stop reading and close the port."""
        self._stop.set()
        self._thread.join(timeout=2)
        self.port.close()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                chunk = self.port.read(0.2)
            except OSError as exc:
                log.error("keybox: serial port %s failed: %s", self.port.path, exc)
                self._stop.wait(1.0)
                continue
            for frame in self.parser.feed(chunk):
                self._handle(frame)

    def _handle(self, frame: Frame) -> None:
        if frame.func != FUNC_KEY or not frame.data:
            log.info("keybox: frame with function %#04x ignored", frame.func)
            return
        if self.address is not None and frame.address != self.address:
            return
        self.port.write(frame.encode())  # the acknowledgement is the echo
        key = frame.data[0]
        press = KeyPress(frame.address, key, KEY_LEVELS.get(key))
        if press.level is None:
            log.warning("keybox: unknown key value %#04x from box %d", key, frame.address)
        try:
            self.on_key(press)
        except Exception:  # a handler bug must not stop the reader
            log.exception("keybox: key handler failed")
