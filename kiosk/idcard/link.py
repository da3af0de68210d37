"""One serial line to a SAM_V module (pyserial, 115200 8N1): send a command frame, wait for its reply.
A reply with a bad checksum, or the module's own "bad checksum" status (our request was damaged on the
line), is asked for again up to `retries` times; silence is a `ReaderTimeout`."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

import serial

from kiosk.idcard import frames
from kiosk.idcard.errors import ChecksumError, ProtocolError, ReaderTimeout, ReaderUnavailable
from kiosk.idcard.frames import Frame, FrameParser, Response

log = logging.getLogger("hallq.idcard.link")


class SamvLink:
    """The port is opened on first use and reopened after a failure (a USB reader unplugged and back)."""

    def __init__(self, port: str, baudrate: int = 115200, timeout_s: float = 1.0, retries: int = 2) -> None:
        self.port = port
        self.baudrate = baudrate
        self.timeout_s = timeout_s
        self.retries = retries
        self.checksum_retries = 0  # replies asked for again because of a checksum error, since start
        self._serial: Any = None
        self._lock = threading.Lock()  # one exchange at a time: the watcher and a direct caller may share us

    def command(self, command: tuple[int, int], data: bytes = b"", timeout_s: float | None = None) -> Response:
        """Send CMD PARA DATA and return the reply, retrying damaged exchanges."""
        request = frames.encode_request(command[0], command[1], data)
        with self._lock:
            for attempt in range(self.retries + 1):
                frame = self._exchange(request, timeout_s or self.timeout_s)
                if frame.valid:
                    try:
                        response = frame.response()
                    except ValueError as exc:
                        raise ProtocolError(f"{command[0]:02X} {command[1]:02X}: {exc}") from None
                    if response.status != frames.SW_BAD_CHECKSUM:
                        return response
                if attempt < self.retries:
                    self.checksum_retries += 1
                    log.info("SAM_V %02X %02X: checksum error, asking again", *command)
            raise ChecksumError(f"{command[0]:02X} {command[1]:02X}: checksum error after {self.retries} retries")

    def close(self) -> None:
        """Close the port (the next command opens it again)."""
        with self._lock:
            self._close()

    def _open(self) -> Any:
        if self._serial is None:
            try:
                self._serial = serial.Serial(self.port, self.baudrate, timeout=self.timeout_s, write_timeout=2.0)
            except (OSError, ValueError) as exc:
                raise ReaderUnavailable(f"cannot open {self.port}: {exc}") from None
        return self._serial

    def _close(self) -> None:
        if self._serial is not None:
            with contextlib.suppress(OSError):
                self._serial.close()
            self._serial = None

    def _exchange(self, request: bytes, timeout_s: float) -> Frame:
        port = self._open()
        parser = FrameParser()
        deadline = time.monotonic() + timeout_s
        try:
            port.reset_input_buffer()  # a late reply to an earlier command must not answer this one
            port.write(request)
            while (left := deadline - time.monotonic()) > 0:
                port.timeout = left
                got = parser.feed(port.read(max(1, port.in_waiting)))
                if got:
                    return got[0]
        except (OSError, serial.SerialException) as exc:
            self._close()
            raise ReaderUnavailable(f"{self.port}: {exc}") from None
        raise ReaderTimeout(f"no reply to {request[7]:02X} {request[8]:02X} within {timeout_s:.1f} s")
