"""Swiping cards from outside: the TCP control socket, the `hallq idcard-sim` command and the factory that
turns a kiosk profile's id_reader into a reader."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from firmware_config.devices import SerialConnection, SimulatorConnection
from kiosk.idcard.control import ControlServer
from kiosk.idcard.driver import SamvReader
from kiosk.idcard.errors import ReaderTimeout
from kiosk.idcard.factory import open_reader
from kiosk.idcard.simulator import IdCardSimulator


class Line:
    """A control connection speaking one line per command."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=3)
        self.file = self.sock.makefile("rw", encoding="utf-8", newline="\n")

    def ask(self, command: str) -> str:
        self.file.write(command + "\n")
        self.file.flush()
        return self.file.readline().strip()

    def close(self) -> None:
        self.file.close()
        self.sock.close()


@pytest.fixture
def line(sim: IdCardSimulator) -> Iterator[Line]:
    with ControlServer(sim) as server:
        client = Line(server.port)
        yield client
        client.close()


def test_control_commands(sim: IdCardSimulator, reader: SamvReader, line: Line) -> None:
    assert line.ask("list").split()[1:4] == ["resident", "elderly", "child"]
    assert line.ask("insert elderly") == "ok inserted elderly"
    card = reader.read_card()
    assert card is not None and card.name == "王老测试"
    assert line.ask("status") == "ok card=elderly faults=-"
    assert line.ask("remove") == "ok removed"
    assert reader.read_card() is None
    assert line.ask("fault silent") == "ok fault silent"
    assert line.ask("status") == "ok card=- faults=silent"
    assert line.ask("fault none") == "ok fault none"


def test_control_errors(line: Line) -> None:
    assert line.ask("insert nobody").startswith("error no identity 'nobody'")
    assert line.ask("fault melted").startswith("error unknown fault")
    assert line.ask("swipe").startswith("error unknown command")


def test_factory_simulator_mode() -> None:
    setup = open_reader(SimulatorConnection(type="simulator", port=0), timeout_s=0.5)
    try:
        assert setup.simulator is not None and setup.control is not None
        client = Line(setup.control.port)
        assert client.ask("insert foreigner") == "ok inserted foreigner"
        client.close()
        card = setup.reader.read_card()
        assert card is not None and card.english_name == "TESTER JOHN SAMPLE" and card.photo is not None
    finally:
        setup.close()


def test_factory_serial_mode(sim: IdCardSimulator) -> None:
    setup = open_reader(SerialConnection(type="serial", port=sim.port), timeout_s=0.2)
    try:
        assert setup.simulator is None
        sim.insert("resident")
        card = setup.reader.read_card()
        assert card is not None and card.photo is None  # no decoder configured for a real reader
        sim.fault("silent")
        with pytest.raises(ReaderTimeout):
            setup.reader.read_card()
    finally:
        setup.close()


def test_the_idcard_sim_command() -> None:
    code = "import typer; from kiosk.idcard.cli import idcard_simulator_command as c; typer.run(c)"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "--insert", "child"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        assert lines[0].strip() == "ok inserted child"
        pty = lines[1].split("串口 ")[1].split("（")[0]
        port = int(lines[2].rsplit(":", 1)[1])
        reader = SamvReader(pty, timeout_s=1.0)
        try:
            card = reader.read_card()
            assert card is not None and card.name == "赵小测"
            client = Line(port)
            assert client.ask("remove") == "ok removed"
            client.close()
            assert reader.read_card() is None
        finally:
            reader.close()
    finally:
        proc.terminate()
        proc.wait(timeout=5)
    assert proc.returncode == 0
