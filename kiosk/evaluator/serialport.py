"""A raw serial port through termios (no pyserial needed on the board): 8N1, no flow control, no echo.
Works the same on /dev/ttyUSB0 (an RS-485 adapter) and on a pseudo-terminal (the simulator)."""

from __future__ import annotations

import contextlib
import os
import select
import termios
import tty

BAUD = {
    1200: termios.B1200,
    2400: termios.B2400,
    4800: termios.B4800,
    9600: termios.B9600,
    19200: termios.B19200,
    38400: termios.B38400,
    57600: termios.B57600,
    115200: termios.B115200,
    230400: termios.B230400,
}


def make_raw(fd: int, baudrate: int = 9600) -> None:
    """Raw mode 8N1 at a baud rate: bytes pass through untouched, nothing is echoed."""
    if baudrate not in BAUD:
        raise ValueError(f"不支持的波特率 {baudrate}（可选：{sorted(BAUD)}）")
    tty.setraw(fd, termios.TCSANOW)
    attrs = termios.tcgetattr(fd)
    attrs[2] = (attrs[2] & ~(termios.PARENB | termios.CSTOPB | termios.CSIZE | termios.CRTSCTS)) | termios.CS8
    attrs[2] |= termios.CLOCAL | termios.CREAD
    attrs[4] = attrs[5] = BAUD[baudrate]  # ispeed, ospeed
    termios.tcsetattr(fd, termios.TCSANOW, attrs)


class SerialPort:
    """An open serial port; read() waits at most `timeout` seconds."""

    def __init__(self, path: str, baudrate: int = 9600) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        try:
            make_raw(self.fd, baudrate)
        except (termios.error, ValueError):
            os.close(self.fd)
            raise

    def read(self, timeout: float) -> bytes:
        """What has arrived (b'' after the timeout)."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return b""
        try:
            return os.read(self.fd, 256)
        except BlockingIOError:
            return b""

    def write(self, data: bytes) -> None:
        """Send every byte."""
        view = memoryview(data)
        while view:
            _, writable, _ = select.select([], [self.fd], [], 1.0)
            if writable:
                view = view[os.write(self.fd, view) :]

    def close(self) -> None:
        """Close the port."""
        with contextlib.suppress(OSError):
            os.close(self.fd)
