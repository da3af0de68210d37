"""The reader a kiosk profile asks for: a real SAM_V on a serial port, or the simulator (with its control
socket on the profile's host:port) when `id_reader.type` is "simulator"."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware_config.devices import SerialConnection, SimulatorConnection
from kiosk.idcard.control import ControlServer
from kiosk.idcard.driver import SamvReader
from kiosk.idcard.photo import PhotoDecoder
from kiosk.idcard.simulator import IdCardSimulator

SIM_PHOTO_DECODER = "kiosk.idcard.sim_wlt:decode"


@dataclass
class ReaderSetup:
    """A reader and, in simulator mode, the simulator behind it and its control socket."""

    reader: SamvReader
    simulator: IdCardSimulator | None = None
    control: ControlServer | None = None

    def close(self) -> None:
        """Close the reader, then the simulator."""
        self.reader.close()
        if self.control is not None:
            self.control.stop()
        if self.simulator is not None:
            self.simulator.close()


def open_reader(
    connection: SerialConnection | SimulatorConnection,
    photo_decoder: PhotoDecoder | str | None = None,
    identities_file: Path | None = None,
    **reader_options: Any,
) -> ReaderSetup:
    """The reader for a profile's `id_reader`; the simulator defaults to its own photo decoder."""
    if isinstance(connection, SerialConnection):
        return ReaderSetup(SamvReader(connection.port, connection.baudrate, photo_decoder, **reader_options))
    sim = IdCardSimulator(identities_file)
    try:
        control = ControlServer(sim, connection.host, connection.port).start()
    except OSError:
        sim.close()
        raise
    reader = SamvReader(sim.port, 115200, photo_decoder or SIM_PHOTO_DECODER, **reader_options)
    return ReaderSetup(reader, sim, control)
