"""The kiosk's devices: the ID card reader (SAM_V on a serial port, or the simulator on a pty started
in-process for demos) watched on its own thread, and the face check-in built only when first used (its
models are heavy). Events go to callbacks; the app moves them onto the UI thread. No Kivy here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from firmware_config.devices import KioskProfile, SerialConnection, SimulatorConnection

log = logging.getLogger("hallq.kiosk")
SIM_PHOTO_DECODER = "kiosk.idcard.sim_wlt:decode"
SIM_HOLD = 10  # the simulator shows each picture for 10 frames (1 s), as a person holds a pose
SIM_CAMERA = "sim:live_both"  # kiosk/sim_assets/faces: the resident test card's holder, turning left and right


class CardInput:
    """The reader and its watcher; with a simulated reader, also the simulator and its test identities."""

    def __init__(
        self,
        profile: KioskProfile,
        on_event: Callable[[Any], None],
        identities_file: Path | None = None,
        photo_decoder: str | None = None,
    ) -> None:
        self.profile = profile
        self.on_event = on_event
        self.identities_file = identities_file
        self.photo_decoder = photo_decoder
        self.simulator: Any = None
        self.control: Any = None
        self.reader: Any = None
        self.watcher: Any = None
        self.problem: str | None = None

    @property
    def simulated(self) -> bool:
        """True when the profile asks for the simulator (demo hall)."""
        return isinstance(self.profile.id_reader, SimulatorConnection)

    def start(self) -> None:
        """Open the reader (starting the simulator first when simulated) and watch it."""
        connection = self.profile.id_reader
        if connection is None:
            return
        try:
            from kiosk.idcard.driver import SamvReader
            from kiosk.idcard.watcher import CardWatcher

            if isinstance(connection, SerialConnection):
                port, baudrate, decoder = connection.port, connection.baudrate, self.photo_decoder
            else:
                from kiosk.idcard.simulator import IdCardSimulator

                self.simulator = IdCardSimulator(self.identities_file)
                port, baudrate, decoder = self.simulator.port, 115200, self.photo_decoder or SIM_PHOTO_DECODER
                self.control = _device_control(self.simulator, self.profile.id)  # `hallq idcard-sim --device`
            self.reader = SamvReader(port, baudrate, decoder)
            self.watcher = CardWatcher(self.reader, self.on_event).start()
        except Exception as exc:  # no reader must not stop the kiosk: guide lookup and help still work
            self.problem = f"身份证阅读器不可用：{exc}"
            log.error("kiosk: %s", self.problem)

    def stop(self) -> None:
        """Stop watching, close the reader and the simulator."""
        for thing, method in (
            (self.watcher, "stop"), (self.reader, "close"), (self.control, "stop"), (self.simulator, "close"),
        ):  # fmt: skip
            if thing is not None:
                try:
                    getattr(thing, method)()
                except Exception:  # closing is best effort
                    log.exception("kiosk: closing the card reader failed")

    def identities(self) -> list[tuple[str, str]]:
        """(key, label) of the simulator's test identities, masked: for the demo control."""
        if self.simulator is None:
            return []
        from hallcore.identity import mask_name

        return [(key, f"{mask_name(i.name)}（{key}）") for key, i in self.simulator.identities.items()]

    def insert(self, key: str) -> None:
        """Demo: put a test card on the simulated reader."""
        if self.simulator is not None:
            self.simulator.insert(key)

    def remove(self) -> None:
        """Demo: take the card away."""
        if self.simulator is not None:
            self.simulator.remove()


def _device_control(simulator: Any, device: str) -> Any:
    """The simulated reader's control socket for `hallq idcard-sim --device` (None when it cannot listen)."""
    from kiosk.idcard.control import DeviceControl

    try:
        return DeviceControl(simulator, device).start()
    except OSError as exc:  # the demo button still works
        log.warning("kiosk: no control socket for the simulated reader: %s", exc)
        return None


class FaceOnce:
    """One face check-in on its own frame source (opened for the check-in, closed after): the camera is only
    on while a citizen asked for the face check. kiosk.face is imported here, on first use."""

    def __init__(self, spec: str) -> None:
        self.spec = spec

    def run(self, id_photo: bytes, on_progress: Callable[[str, str], None], cancel: Any) -> Any:
        """kiosk.face.FaceCheckin.run on a fresh source."""
        import importlib
        import time

        face = importlib.import_module("kiosk.face")  # the public names of kiosk.face
        source = face.open_source(self.spec, hold=SIM_HOLD)  # hold: image sequences only (the simulator)
        try:
            settings = face.FaceSettings(camera=self.spec)
            return face.FaceCheckin(source, settings, time.monotonic).run(id_photo, on_progress, cancel)
        finally:
            source.close()


def face_factory(profile: KioskProfile, source: str | None = None) -> Callable[[], Any] | None:
    """A maker of face check-ins (None when the profile does not enable face). The demo hall's simulated kiosk
    plays the camera simulator's live sequence (kiosk/sim_assets/faces), a real one camera 0."""
    if not profile.face_checkin:
        return None
    spec = source or (SIM_CAMERA if isinstance(profile.id_reader, SimulatorConnection) else "0")
    return lambda: FaceOnce(spec)
