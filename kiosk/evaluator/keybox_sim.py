"""A key box on a pseudo-terminal for demos and tests: press() sends the box's frame and waits for the
host's echo, as the real box does (it would repeat the press without one)."""

from __future__ import annotations

import contextlib
import os
import select
import time

from kiosk.evaluator.keybox import FUNC_KEY, Frame, FrameParser, encode
from kiosk.evaluator.serialport import make_raw


class KeyBoxSimulator:
    """The box's end of a pty; the driver opens `port` (the other end) like a real /dev/ttyUSB0."""

    def __init__(self, address: int = 1, baudrate: int = 9600, retries: int = 3, ack_timeout_s: float = 0.5) -> None:
        self.address = address
        self.retries = retries
        self.ack_timeout_s = ack_timeout_s
        self.master, self._slave = os.openpty()
        make_raw(self._slave, baudrate)  # no line discipline: no echo, no CR/LF mangling
        make_raw(self.master, baudrate)
        self.port = os.ttyname(self._slave)
        self.parser = FrameParser()
        self.acks: list[Frame] = []
        self.sent = 0

    def send_raw(self, data: bytes) -> None:
        """Put bytes on the line (noise, broken frames)."""
        os.write(self.master, data)

    def press(self, key: int) -> bool:
        """Press a key; True once the host has echoed it (retrying like the box does)."""
        frame = encode(self.address, FUNC_KEY, bytes([key]))
        for _ in range(self.retries):
            self.send_raw(frame)
            self.sent += 1
            if self._wait_echo(frame):
                return True
        return False

    def _wait_echo(self, frame: bytes) -> bool:
        deadline = time.monotonic() + self.ack_timeout_s
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], left)
            if not ready:
                break
            for got in self.parser.feed(os.read(self.master, 256)):
                self.acks.append(got)
                if got.encode() == frame:
                    return True
        return False

    def close(self) -> None:
        """Close both ends."""
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)
