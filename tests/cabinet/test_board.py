"""The locker board's framed RS-485 protocol: frames and checksums, a parser that resynchronises, and the
driver against the board simulator on a pty (the bytes a real board would get), with its faults."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kiosk.cabinet import protocol
from kiosk.cabinet.board import BoardError, SerialBoard
from kiosk.cabinet.control import board_command
from kiosk.cabinet.protocol import Frame, FrameParser
from kiosk.cabinet.simulator import CabinetBoardSimulator


@pytest.fixture
def sim() -> Iterator[CabinetBoardSimulator]:
    board = CabinetBoardSimulator(address=2, doors=12)
    yield board
    board.close()


@pytest.fixture
def board(sim: CabinetBoardSimulator) -> Iterator[SerialBoard]:
    driver = SerialBoard(sim.port, 9600, address=2, doors=12, timeout_s=0.2, retries=2)
    yield driver
    driver.close()


def test_frames_and_checksums() -> None:
    assert protocol.unlock(1, 1).hex(" ") == "8a 01 01 11 9b"  # as lock boards of this kind document it
    assert protocol.query(1, 3).hex(" ") == "80 01 03 33 b1"
    with pytest.raises(ValueError):
        protocol.unlock(1, 300)


def test_the_parser_resynchronises_after_noise_and_damage() -> None:
    parser = FrameParser()
    good = protocol.query(1, 5)
    damaged = protocol.unlock(1, 2)[:4] + b"\x00"
    frames = parser.feed(b"\x00\xff" + damaged + good[:2])
    assert frames == [] and parser.bad_checksums == 1
    assert parser.feed(good[2:]) == [Frame(protocol.QUERY, 1, 5, 0x33)]


def test_unlock_and_state(sim: CabinetBoardSimulator, board: SerialBoard) -> None:
    sim.put(4)
    assert board.state(4).occupied and not board.state(4).open
    assert board.unlock(4) is True
    state = board.state(4)
    assert state.open and state.occupied
    sim.take(4)
    sim.shut(4)
    assert board.state(4) == type(state)(4, False, False)
    assert protocol.unlock(2, 4) in sim.requests  # the exact bytes reached the board
    with pytest.raises(ValueError, match="超出范围"):
        board.unlock(13)


def test_faults(sim: CabinetBoardSimulator, board: SerialBoard) -> None:
    sim.fault("bad_checksum")  # one damaged reply: asked again, and it works
    assert board.state(1).open is False and board.retried == 1
    sim.fault("jammed")
    assert board.unlock(2) is False and sim.state(2) == (False, False)
    sim.fault("jammed", on=False)
    sim.fault("silent")
    with pytest.raises(BoardError, match="无应答"):
        board.state(1)
    sim.fault("silent", on=False)
    other = SerialBoard(sim.port, 9600, address=9, doors=12, timeout_s=0.1, retries=0)
    with pytest.raises(BoardError):  # another address on the bus: this board stays silent
        other.unlock(1)
    other.close()
    assert board.unlock(1) is True  # still fine after all that


def test_demo_control_commands(sim: CabinetBoardSimulator) -> None:
    assert board_command(sim, "put 3") == "ok put 3"
    assert board_command(sim, "take 3").startswith("error 第3号柜门是关着的")
    assert board_command(sim, "status") == "ok open=- occupied=3"
    assert board_command(sim, "put 99").startswith("error no door 99")
    assert board_command(sim, "fault melted").startswith("error unknown fault")
    assert board_command(sim, "fault none") == "ok fault none"
    assert board_command(sim, "dance").startswith("error unknown command")
