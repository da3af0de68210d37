"""Transports: TCP against the simulator, serial on a pseudo-terminal, the usblp lookup, files; and the
simulator's own parsing of status queries."""

from __future__ import annotations

import os
import select
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from firmware_config.devices import (
    FileConnection,
    NetworkConnection,
    SerialConnection,
    SimulatorConnection,
    UsbConnection,
)
from kiosk.printer.connection import (
    FileLink,
    PrinterIOError,
    SerialLink,
    TcpLink,
    UsbLink,
    find_usblp,
    open_link,
)
from kiosk.printer.simulator import PrinterSimulator, split_queries
from kiosk.printer.status import answers_for, parse


def wait(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll a condition until it holds or the timeout passes."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def test_tcp_link_sends_and_reads_status(sim: PrinterSimulator) -> None:
    link = TcpLink("127.0.0.1", sim.port)
    with link.session():
        assert link.read_status(0.5).can_print
        link.send(b"\x1b@hello\n")
        sim.set_state(paper="near_end")
        assert link.read_status(0.5).paper == "near_end"
    assert sim.wait_for(lambda s: bool(s.captures) and s.captures[0].closed)
    capture = sim.captures[0]
    assert bytes(capture.data) == b"\x1b@hello\n" and capture.queries == [1, 2, 4, 1, 2, 4]


def test_tcp_link_to_nothing_raises() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound but not listening: connection refused
        with pytest.raises(PrinterIOError):
            TcpLink("127.0.0.1", port, connect_timeout=0.5).open()


def test_silent_simulator_times_out(sim: PrinterSimulator) -> None:
    sim.set_state(offline=True)
    link = TcpLink("127.0.0.1", sim.port)
    with link.session():
        assert link.query(1, timeout=0.2) is None
        assert not link.read_status(0.2).responding


def test_serial_link_on_a_pty() -> None:
    master, slave = os.openpty()
    path = os.ttyname(slave)
    answers = answers_for(parse({1: 0x12, 2: 0x12, 4: 0x1E}))
    received = bytearray()
    stop = threading.Event()

    def printer() -> None:  # the printer's end of the cable
        while not stop.is_set():
            if select.select([master], [], [], 0.05)[0]:
                try:
                    chunk = os.read(master, 1024)
                except OSError:  # every end of the line closed
                    return
                received.extend(chunk)
                for i in range(len(chunk) - 2):
                    if chunk[i : i + 2] == b"\x10\x04":
                        os.write(master, bytes([answers[chunk[i + 2]]]))

    thread = threading.Thread(target=printer, daemon=True)
    thread.start()
    try:
        link = SerialLink(path, 115200)
        with link.session():
            assert link.read_status(1.0).paper == "near_end"
            link.send("票号A012".encode("gb18030"))
        assert wait(lambda: bytes(received).endswith("票号A012".encode("gb18030")), 2)
    finally:
        stop.set()
        thread.join(2)
        os.close(master)
        os.close(slave)
    with pytest.raises(ValueError):
        SerialLink(path, 12345)


def test_usblp_lookup(tmp_path: Path) -> None:
    usb = tmp_path / "sys" / "devices" / "pci0" / "usb1" / "1-1"
    (usb / "1-1:1.0").mkdir(parents=True)
    (usb / "idVendor").write_text("0fe6\n")
    (usb / "idProduct").write_text("811e\n")
    node = tmp_path / "sys" / "class" / "usbmisc" / "lp0"
    node.mkdir(parents=True)
    (node / "device").symlink_to(usb / "1-1:1.0")
    dev = tmp_path / "dev"
    assert find_usblp(0x0FE6, 0x811E, tmp_path / "sys", dev) == str(dev / "usb" / "lp0")
    with pytest.raises(PrinterIOError):
        find_usblp(0x0416, 0x5011, tmp_path / "sys", dev)
    (dev / "usb").mkdir(parents=True)
    (dev / "usb" / "lp0").write_bytes(b"")  # a plain file stands in for the device node
    link = UsbLink(0x0FE6, 0x811E, tmp_path / "sys", dev)
    with link.session():
        link.send(b"\x1b@ok\n")
    assert (dev / "usb" / "lp0").read_bytes() == b"\x1b@ok\n"


def test_file_link_appends_and_cannot_be_asked(tmp_path: Path) -> None:
    path = tmp_path / "lp0"
    link = FileLink(str(path))
    for _ in range(2):
        with link.session():
            link.send(b"abc")
            assert link.read_status().can_print and not link.queryable
    assert path.read_bytes() == b"abcabc"
    with pytest.raises(PrinterIOError):
        FileLink(str(tmp_path / "missing" / "lp0")).open()


def test_open_link_by_profile(tmp_path: Path) -> None:
    assert isinstance(open_link(NetworkConnection(type="network", host="10.0.0.9")), TcpLink)
    assert isinstance(open_link(SimulatorConnection(type="simulator", port=9100)), TcpLink)
    assert isinstance(open_link(SerialConnection(type="serial", port="/dev/ttyS0")), SerialLink)
    assert isinstance(open_link(UsbConnection(type="usb", vendor_id=1, product_id=2)), UsbLink)
    assert isinstance(open_link(FileConnection(type="file", path=str(tmp_path / "x"))), FileLink)
    with pytest.raises(ValueError):
        open_link(SimulatorConnection(type="simulator", port=0))


def test_split_queries_across_chunks() -> None:
    assert split_queries(b"ab\x10\x04\x01cd") == (b"abcd", [1], b"")
    assert split_queries(b"ab\x10") == (b"ab", [], b"\x10")
    assert split_queries(b"\x10" + b"\x04") == (b"", [], b"\x10\x04")
    assert split_queries(b"\x10\x04" + b"\x04x") == (b"x", [4], b"")
    assert split_queries(b"\x10\x05z") == (b"\x10\x05z", [], b"")


def test_simulator_capture_file(tmp_path: Path) -> None:
    capture = tmp_path / "out.bin"
    with PrinterSimulator(port=0, capture_file=capture) as sim:
        for payload in (b"one\n", b"two\n"):
            with socket.create_connection(("127.0.0.1", sim.port)) as conn:
                conn.sendall(b"\x10\x04\x01" + payload)
                assert conn.recv(1) == b"\x12"
        assert sim.wait_for(lambda s: len(s.documents()) == 2)
    assert capture.read_bytes() == b"one\ntwo\n" and sim.data() == b"one\ntwo\n"
