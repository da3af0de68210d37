"""The locker controller board on a pseudo-terminal, speaking the same frames (kiosk/cabinet/protocol.py):
open `port` like /dev/ttyUSB0. Tests, demos and `hallq cabinet` in simulator mode play the people: `put(door)`
(staff load a compartment), `take(door)` and `shut(door)` (a citizen takes the 证照 and closes the door), and
faults: `silent` (no reply), `bad_checksum` (the next reply damaged), `jammed` (unlocking fails)."""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
from dataclasses import dataclass

from kiosk.cabinet import protocol
from kiosk.cabinet.protocol import FrameParser
from kiosk.evaluator.serialport import make_raw

log = logging.getLogger("hallq.cabinet.simulator")
FAULTS = ("silent", "bad_checksum", "jammed")


@dataclass
class _Door:
    open: bool = False
    occupied: bool = False


class CabinetBoardSimulator:
    """The board's end of a pty, served by a thread from construction until close()."""

    def __init__(self, address: int = 1, doors: int = 24, baudrate: int = 9600) -> None:
        self.address = address
        self.doors = {n: _Door() for n in range(1, doors + 1)}
        self.master, self._slave = os.openpty()
        make_raw(self._slave, baudrate)
        make_raw(self.master, baudrate)
        self.port = os.ttyname(self._slave)
        self.requests: list[bytes] = []  # every valid frame received, in order
        self.faults: set[str] = set()
        self._lock = threading.Lock()
        self._parser = FrameParser()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="cabinet-sim", daemon=True)
        self._thread.start()

    # --- the people around the cabinet ---

    def put(self, door: int) -> None:
        """Something is placed in the compartment (staff load it: the door is open meanwhile, then shut)."""
        with self._lock:
            self.doors[door].occupied = True

    def take(self, door: int) -> None:
        """The compartment is emptied (only possible while the door stands open)."""
        with self._lock:
            if not self.doors[door].open:
                raise ValueError(f"第{door}号柜门是关着的")
            self.doors[door].occupied = False

    def shut(self, door: int) -> None:
        """The door is pushed shut (it locks again)."""
        with self._lock:
            self.doors[door].open = False

    def fault(self, kind: str, on: bool = True) -> None:
        """Turn a fault on or off."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; faults: {', '.join(FAULTS)}")
        with self._lock:
            (self.faults.add if on else self.faults.discard)(kind)

    def state(self, door: int) -> tuple[bool, bool]:
        """(open, occupied) of a door."""
        with self._lock:
            d = self.doors[door]
            return d.open, d.occupied

    # --- the wire ---

    def _answer(self, request: protocol.Frame) -> bytes | None:
        with self._lock:
            self.requests.append(request.encode())
            if request.address != self.address or request.door not in self.doors or "silent" in self.faults:
                return None
            door = self.doors[request.door]
            if request.header == protocol.UNLOCK and request.value == protocol.FUNC[protocol.UNLOCK]:
                if "jammed" not in self.faults:
                    door.open = True
                value = protocol.OPENED if door.open else protocol.STAYED_SHUT
            elif request.header == protocol.QUERY and request.value == protocol.FUNC[protocol.QUERY]:
                value = (protocol.DOOR_OPEN if door.open else 0) | (protocol.OCCUPIED if door.occupied else 0)
            else:
                return None
            reply = protocol.frame(request.header, self.address, request.door, value)
            if "bad_checksum" in self.faults:
                self.faults.discard("bad_checksum")
                reply = reply[:4] + bytes((reply[4] ^ 0xFF,))
            return reply

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self.master], [], [], 0.1)
                if not ready:
                    continue
                data = os.read(self.master, 256)
            except OSError:
                return
            for request in self._parser.feed(data):
                reply = self._answer(request)
                if reply is not None:
                    with contextlib.suppress(OSError):
                        os.write(self.master, reply)

    def close(self) -> None:
        """Stop serving and close the pty."""
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)
