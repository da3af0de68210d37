"""The cabinet's hardware from its profile: the locker board (RS-485 serial port, or the board simulator on a
pty with its demo control socket) and its own ID card reader (a SAM_V, or the reader simulator that
`hallq idcard-sim --device <cabinet>` controls)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from firmware_config.devices import PickupCabinetProfile, SerialConnection
from kiosk.cabinet.board import SerialBoard
from kiosk.cabinet.control import board_command, board_socket_dir
from kiosk.cabinet.simulator import CabinetBoardSimulator
from kiosk.idcard.control import DeviceControl
from kiosk.idcard.watcher import CardEvent, CardWatcher

log = logging.getLogger("hallq.cabinet")
SIM_PHOTO_DECODER = "kiosk.idcard.sim_wlt:decode"


@dataclass
class CabinetHardware:
    """Board and reader of one cabinet, and what was started to simulate them (closed in reverse)."""

    board: SerialBoard
    board_sim: CabinetBoardSimulator | None = None
    card_sim: Any = None  # the simulated ID card reader (demo, tests)
    reader: Any = None
    watcher: CardWatcher | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        """Stop everything, last started first."""
        for closer in reversed(self.closers):
            with contextlib.suppress(Exception):
                closer()
        self.closers.clear()


def open_hardware(profile: PickupCabinetProfile, on_card: Callable[[CardEvent], None]) -> CabinetHardware:
    """The board and the reader a profile names; the card watcher reports to `on_card`."""
    from kiosk.idcard.driver import SamvReader
    from kiosk.idcard.simulator import IdCardSimulator

    hw: CabinetHardware
    controller = profile.controller
    if isinstance(controller, SerialConnection):
        hw = CabinetHardware(SerialBoard(controller.port, controller.baudrate, profile.address, profile.doors))
    else:
        sim = CabinetBoardSimulator(profile.address, profile.doors)
        hw = CabinetHardware(SerialBoard(sim.port, 9600, profile.address, profile.doors), board_sim=sim)
        hw.closers.append(sim.close)
        _serve(hw, sim, profile.id, lambda line: board_command(sim, line), board_socket_dir())
    hw.closers.append(hw.board.close)
    try:
        reader_conn = profile.id_reader
        if isinstance(reader_conn, SerialConnection):
            hw.reader = SamvReader(reader_conn.port, reader_conn.baudrate)
        else:
            card_sim = hw.card_sim = IdCardSimulator()
            hw.closers.append(card_sim.close)
            _serve(hw, card_sim, profile.id, None, None)
            hw.reader = SamvReader(card_sim.port, 115200, SIM_PHOTO_DECODER)
        hw.closers.append(hw.reader.close)
        hw.watcher = CardWatcher(hw.reader, on_card).start()
        hw.closers.append(hw.watcher.stop)
    except Exception:
        hw.close()
        raise
    return hw


def _serve(hw: CabinetHardware, sim: Any, device: str, answer: Any, folder: Any) -> None:
    try:
        control = DeviceControl(sim, device, folder, answer).start()
    except OSError as exc:  # a demo aid: the cabinet works without it
        log.warning("cabinet: no control socket for %s: %s", device, exc)
        return
    hw.closers.append(control.stop)
