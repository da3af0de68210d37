"""The cabinet's locker controller behind an interface (`CabinetBoard`), and its driver for the framed RS-485
protocol (kiosk/cabinet/protocol.py) on a serial port: an RS-485 adapter, or the simulator's pty."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from kiosk.cabinet import protocol
from kiosk.cabinet.protocol import FrameParser
from kiosk.evaluator.serialport import SerialPort

log = logging.getLogger("hallq.cabinet")


class BoardError(RuntimeError):
    """The controller board cannot be reached or answered wrongly (message for the log and status)."""


@dataclass(frozen=True)
class DoorState:
    """One door: standing open, and whether its compartment holds something."""

    door: int
    open: bool
    occupied: bool


class CabinetBoard(Protocol):
    """What the cabinet needs of its locker controller."""

    doors: int

    def unlock(self, door: int) -> bool:
        """Unlock a door; True when it sprang open."""

    def state(self, door: int) -> DoorState:
        """One door's state."""

    def close(self) -> None:
        """Release the port."""


class SerialBoard:
    """The driver: one exchange at a time, a reply must match the request (header, address, door); silence
    and damaged replies are retried `retries` times, then BoardError."""

    def __init__(
        self,
        port: str,
        baudrate: int = 9600,
        address: int = 1,
        doors: int = 24,
        timeout_s: float = 0.3,
        retries: int = 2,
    ) -> None:
        self.port_name = port
        self.baudrate = baudrate
        self.address = address
        self.doors = doors
        self.timeout_s = timeout_s
        self.retries = retries
        self.retried = 0  # exchanges asked again, since start
        self._port: SerialPort | None = None
        self._lock = threading.Lock()

    def unlock(self, door: int) -> bool:
        """Unlock a door; True when the board says it sprang open."""
        reply = self._exchange(protocol.unlock(self.address, self._door(door)))
        return reply.value == protocol.OPENED

    def state(self, door: int) -> DoorState:
        """One door's state (open, occupied)."""
        reply = self._exchange(protocol.query(self.address, self._door(door)))
        return DoorState(door, bool(reply.value & protocol.DOOR_OPEN), bool(reply.value & protocol.OCCUPIED))

    def close(self) -> None:
        """Close the port (the next exchange opens it again)."""
        with self._lock:
            if self._port is not None:
                self._port.close()
                self._port = None

    def _door(self, door: int) -> int:
        if not 1 <= door <= self.doors:
            raise ValueError(f"柜门编号 {door} 超出范围（1–{self.doors}）")
        return door

    def _open(self) -> SerialPort:
        if self._port is None:
            try:
                self._port = SerialPort(self.port_name, self.baudrate)
            except (OSError, ValueError) as exc:
                raise BoardError(f"无法打开柜门控制板串口 {self.port_name}：{exc}") from None
        return self._port

    def _exchange(self, request: bytes) -> protocol.Frame:
        with self._lock:
            for attempt in range(self.retries + 1):
                if attempt:
                    self.retried += 1
                port = self._open()
                parser = FrameParser()
                port.read(0)  # drop anything late from an earlier exchange
                try:
                    port.write(request)
                except OSError as exc:
                    self.close_locked()
                    raise BoardError(f"柜门控制板串口 {self.port_name} 写入失败：{exc}") from None
                deadline = time.monotonic() + self.timeout_s
                while (left := deadline - time.monotonic()) > 0:
                    for reply in parser.feed(port.read(left)):
                        if (reply.header, reply.address, reply.door) == (request[0], request[1], request[2]):
                            return reply
                log.info("cabinet: no valid reply to %s (attempt %d)", request.hex(" "), attempt + 1)
            raise BoardError(f"柜门控制板（地址 {self.address}）无应答")

    def close_locked(self) -> None:
        if self._port is not None:
            self._port.close()
            self._port = None
