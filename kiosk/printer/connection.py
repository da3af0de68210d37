"""Printer transports behind one small interface: raw TCP (network :9100 and the simulator), serial, USB
(the kernel's usblp device), and a file or character device."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import termios
import time
import tty
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path

from firmware_config.devices import (
    FileConnection,
    NetworkConnection,
    PrinterConnection,
    SerialConnection,
    SimulatorConnection,
    UsbConnection,
)
from kiosk.printer.status import QUERIES, UNKNOWN, PrinterState, parse, query

DEFAULT_TIMEOUT_S = 1.0


class PrinterIOError(OSError):
    """The printer could not be reached or the connection broke while sending."""


class PrinterLink(ABC):
    """One printer: open, send bytes, ask the real-time status, close."""

    queryable = True  # whether the printer can answer DLE EOT on this transport

    @abstractmethod
    def open(self) -> None:
        """Connect (PrinterIOError when the printer cannot be reached)."""

    @abstractmethod
    def close(self) -> None:
        """Disconnect; safe to call twice."""

    @abstractmethod
    def send(self, data: bytes) -> None:
        """Write every byte (PrinterIOError when the connection breaks)."""

    @abstractmethod
    def read_byte(self, timeout: float) -> int | None:
        """One answer byte, or None when nothing comes within the timeout."""

    def drain(self) -> None:
        """Drop late answers to earlier queries."""
        while self.read_byte(0) is not None:
            pass

    def query(self, n: int, timeout: float = DEFAULT_TIMEOUT_S) -> int | None:
        """Ask DLE EOT n and return the status byte, or None when the printer stays silent."""
        self.drain()
        self.send(query(n))
        return self.read_byte(timeout)

    def read_status(self, timeout: float = DEFAULT_TIMEOUT_S) -> PrinterState:
        """Printer, offline-cause and paper status; stops at the first unanswered query."""
        if not self.queryable:
            return UNKNOWN
        answers: dict[int, int | None] = {}
        for n in QUERIES:
            answers[n] = self.query(n, timeout)
            if answers[n] is None:
                break
        return parse(answers)

    @contextlib.contextmanager
    def session(self) -> Iterator[PrinterLink]:
        """Open for one job or one status poll, always closed afterwards."""
        self.open()
        try:
            yield self
        finally:
            self.close()


class TcpLink(PrinterLink):
    """Raw TCP, as network printers speak on port 9100 (and the simulator)."""

    def __init__(self, host: str, port: int, connect_timeout: float = 3.0) -> None:
        self.host, self.port, self.connect_timeout = host, port, connect_timeout
        self._sock: socket.socket | None = None

    def __repr__(self) -> str:
        return f"TcpLink({self.host}:{self.port})"

    def open(self) -> None:
        self.close()
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except OSError as exc:
            raise PrinterIOError(f"cannot connect to the printer at {self.host}:{self.port}: {exc}") from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock

    def close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None

    def _socket(self) -> socket.socket:
        if self._sock is None:
            raise PrinterIOError("the printer connection is not open")
        return self._sock

    def send(self, data: bytes) -> None:
        sock = self._socket()
        try:
            sock.settimeout(10.0)
            sock.sendall(data)
        except OSError as exc:
            raise PrinterIOError(f"sending to the printer failed: {exc}") from exc

    def read_byte(self, timeout: float) -> int | None:
        sock = self._socket()
        try:
            ready, _, _ = select.select([sock], [], [], timeout)
            if not ready:
                return None
            data = sock.recv(1)
        except OSError as exc:
            raise PrinterIOError(f"reading from the printer failed: {exc}") from exc
        if not data:
            raise PrinterIOError("the printer closed the connection")
        return data[0]


class FdLink(PrinterLink):
    """A device node read and written with plain file descriptors (serial port, /dev/usb/lpN)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path})"

    def open(self) -> None:
        self.close()
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            self.configure(self._fd)
        except OSError as exc:
            self.close()
            raise PrinterIOError(f"cannot open the printer at {self.path}: {exc}") from exc

    def configure(self, fd: int) -> None:
        """Set the device up after opening (serial line settings)."""

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def _descriptor(self) -> int:
        if self._fd is None:
            raise PrinterIOError("the printer connection is not open")
        return self._fd

    def send(self, data: bytes) -> None:
        fd = self._descriptor()
        view = memoryview(data)
        deadline = time.monotonic() + 10.0
        try:
            while view:
                if not select.select([], [fd], [], max(0.0, deadline - time.monotonic()))[1]:
                    raise PrinterIOError("the printer does not take data (timeout)")
                view = view[os.write(fd, view) :]
        except OSError as exc:
            raise PrinterIOError(f"sending to the printer failed: {exc}") from exc

    def read_byte(self, timeout: float) -> int | None:
        fd = self._descriptor()
        try:
            if not select.select([fd], [], [], timeout)[0]:
                return None
            data = os.read(fd, 1)
        except BlockingIOError:
            return None
        except OSError as exc:
            raise PrinterIOError(f"reading from the printer failed: {exc}") from exc
        return data[0] if data else None


class SerialLink(FdLink):
    """A serial printer: raw 8N1 at the profile's baud rate, no flow control."""

    def __init__(self, path: str, baudrate: int) -> None:
        super().__init__(path)
        self.speed = getattr(termios, f"B{baudrate}", None)
        if self.speed is None:
            raise ValueError(f"unsupported baud rate: {baudrate}")

    def configure(self, fd: int) -> None:
        tty.setraw(fd)
        attrs = termios.tcgetattr(fd)
        attrs[4] = attrs[5] = self.speed
        attrs[2] = (attrs[2] & ~(termios.CSTOPB | termios.PARENB | termios.CSIZE)) | termios.CS8
        attrs[2] |= termios.CLOCAL | termios.CREAD
        termios.tcsetattr(fd, termios.TCSANOW, attrs)


def find_usblp(vendor_id: int, product_id: int, sysfs: Path = Path("/sys"), dev: Path = Path("/dev")) -> str:
    """The /dev/usb/lpN node of the USB printer with this vendor and product id (PrinterIOError if none)."""
    for node in sorted((sysfs / "class" / "usbmisc").glob("lp*")):
        usb_device = (node / "device").resolve().parent
        try:
            vendor = int((usb_device / "idVendor").read_text().strip(), 16)
            product = int((usb_device / "idProduct").read_text().strip(), 16)
        except (OSError, ValueError):
            continue
        if (vendor, product) == (vendor_id, product_id):
            return str(dev / "usb" / node.name)
    raise PrinterIOError(f"no USB printer {vendor_id:04x}:{product_id:04x} (usblp) is connected")


class UsbLink(FdLink):
    """A USB printer through the kernel's usblp driver, found by vendor and product id at each open."""

    def __init__(self, vendor_id: int, product_id: int, sysfs: Path = Path("/sys"), dev: Path = Path("/dev")):
        super().__init__("")
        self.ids, self.sysfs, self.dev = (vendor_id, product_id), sysfs, dev

    def open(self) -> None:
        self.path = find_usblp(*self.ids, sysfs=self.sysfs, dev=self.dev)
        super().open()


class FileLink(PrinterLink):
    """Bytes appended to a file or written to a character device; status cannot be asked."""

    queryable = False

    def __init__(self, path: str) -> None:
        self.path = path
        self._file: int | None = None

    def __repr__(self) -> str:
        return f"FileLink({self.path})"

    def open(self) -> None:
        self.close()
        try:
            self._file = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise PrinterIOError(f"cannot open {self.path}: {exc}") from exc

    def close(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                os.close(self._file)
            self._file = None

    def send(self, data: bytes) -> None:
        if self._file is None:
            raise PrinterIOError("the printer file is not open")
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._file, view) :]
        except OSError as exc:
            raise PrinterIOError(f"writing {self.path} failed: {exc}") from exc

    def read_byte(self, timeout: float) -> int | None:
        return None


def open_link(connection: PrinterConnection) -> PrinterLink:
    """The transport for a profile's connection (a simulator on port 0 is started by the agent instead)."""
    if isinstance(connection, NetworkConnection | SimulatorConnection):
        if connection.port == 0:
            raise ValueError("a simulator on port 0 must be started first (the agent does this in demo mode)")
        return TcpLink(connection.host, connection.port)
    if isinstance(connection, SerialConnection):
        return SerialLink(connection.port, connection.baudrate)
    if isinstance(connection, UsbConnection):
        return UsbLink(connection.vendor_id, connection.product_id)
    if isinstance(connection, FileConnection):
        return FileLink(connection.path)
    raise ValueError(f"unknown printer connection: {connection!r}")
