"""ID card fixtures: a real simulator on a pseudo-terminal and a real SamvReader (pyserial) on its port."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from kiosk.idcard.driver import SamvReader
from kiosk.idcard.sim_wlt import FACES_DIR
from kiosk.idcard.simulator import IdCardSimulator

NOW = datetime(2026, 11, 22, 9, 30)
SIM_DECODER = "kiosk.idcard.sim_wlt:decode"
STOCK_PHOTOS = ("id_obama.jpg", "id_biden.jpg", "obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg")


@pytest.fixture(scope="session", autouse=True)
def _stock_photos() -> None:
    missing = [name for name in STOCK_PHOTOS if not (FACES_DIR / name).is_file()]
    if missing:
        pytest.fail(f"stock photos missing from {FACES_DIR}: {missing} (from the face_recognition sdist)")


@pytest.fixture
def sim() -> Iterator[IdCardSimulator]:
    simulator = IdCardSimulator()
    yield simulator
    simulator.close()


@pytest.fixture
def reader(sim: IdCardSimulator) -> Iterator[SamvReader]:
    samv = SamvReader(sim.port, photo_decoder=SIM_DECODER, timeout_s=0.5, read_timeout_s=1.0, clock=lambda: NOW)
    yield samv
    samv.close()
