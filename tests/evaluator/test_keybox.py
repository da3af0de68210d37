"""The RS-485 key box: frames byte by byte, the driver against its simulator on a pseudo-terminal, and a
key press rating a real visit through the hall server."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from typing import Any

import pytest

from firmware_config.devices import SerialConnection
from kiosk.evaluator.keybox import FUNC_KEY, Frame, FrameParser, KeyBoxDriver, KeyPress, checksum, encode
from kiosk.evaluator.keybox_sim import KeyBoxSimulator
from kiosk.evaluator.serialport import SerialPort
from kiosk.evaluator.service import EvaluatorService
from tests.gateway.fixtures import Bus
from tests.ui.helpers import device_bus, issue, serve


def test_frame_layout_and_checksum() -> None:
    assert encode(0x01, FUNC_KEY, b"\x01").hex(" ") == "ff 68 03 03 68 01 11 01 13 16"
    assert checksum(0xF0, 0x11, b"\x05\x10") == (0xF0 + 0x11 + 0x05 + 0x10) % 256
    assert encode(0xF0, 0x11, b"\x05\x10")[-2] == 0x16  # (0xF0+0x11+0x05+0x10) mod 256 wraps to 0x16
    assert Frame(7, FUNC_KEY, b"\x03").encode() == encode(7, FUNC_KEY, b"\x03")


def test_parser_resynchronises_after_noise_and_split_reads() -> None:
    parser = FrameParser()
    good = encode(2, FUNC_KEY, b"\x04")
    bad_sum = bytearray(encode(2, FUNC_KEY, b"\x05"))
    bad_sum[-2] ^= 0xFF
    stream = b"\x00\xff\x13" + bytes(bad_sum) + good + good[:4]
    assert parser.feed(stream) == [Frame(2, FUNC_KEY, b"\x04")]
    assert parser.dropped >= 1
    assert parser.feed(good[4:]) == [Frame(2, FUNC_KEY, b"\x04")]
    for byte in encode(3, FUNC_KEY, b"\x01"):  # one byte at a time, as a slow line delivers them
        found = parser.feed(bytes([byte]))
    assert found == [Frame(3, FUNC_KEY, b"\x01")]


@pytest.fixture
def box() -> Iterator[tuple[KeyBoxSimulator, KeyBoxDriver, queue.Queue[KeyPress]]]:
    sim = KeyBoxSimulator(address=1)
    presses: queue.Queue[KeyPress] = queue.Queue()
    driver = KeyBoxDriver(SerialPort(sim.port, 9600), presses.put)
    driver.start()
    yield sim, driver, presses
    driver.stop()
    sim.close()


def test_the_driver_acknowledges_every_press(box: tuple) -> None:
    sim, _, presses = box
    for key, level in ((1, 5), (2, 4), (3, 3), (4, 2), (5, 1)):
        assert sim.press(key), f"key {key} was not acknowledged"
        assert presses.get(timeout=2) == KeyPress(1, key, level)
    assert sim.sent == 5  # no press needed a retry
    assert [a.data for a in sim.acks] == [bytes([k]) for k in range(1, 6)]


def test_noise_on_the_line_is_not_a_press(box: tuple) -> None:
    sim, driver, presses = box
    broken = bytearray(encode(1, FUNC_KEY, b"\x01"))
    broken[-2] ^= 0x55
    sim.send_raw(bytes(broken) + b"\x12\x34")
    assert sim.press(4)
    assert presses.get(timeout=2).key == 4
    assert presses.empty()
    assert driver.parser.dropped >= 1


def test_a_box_at_another_address_is_not_acknowledged() -> None:
    sim = KeyBoxSimulator(address=9, retries=2, ack_timeout_s=0.2)
    presses: queue.Queue[KeyPress] = queue.Queue()
    driver = KeyBoxDriver(SerialPort(sim.port), presses.put, address=1)
    driver.start()
    try:
        assert not sim.press(1)
        assert sim.sent == 2 and presses.empty()  # the box repeated its unanswered press
    finally:
        driver.stop()
        sim.close()


def test_a_key_press_rates_the_prompted_visit(bus: Bus) -> None:
    sim = KeyBoxSimulator(address=1)
    profile: Any = bus.devices.get("eval-w03").model_copy(
        update={"keybox": SerialConnection(type="serial", port=sim.port, baudrate=9600)}
    )
    service = EvaluatorService(profile, device_bus(bus, "eval-w03"), clock=bus.clock.now)
    service.start(wait_s=5)
    try:
        assert sim.press(1)  # nothing to rate yet: acknowledged, ignored
        issue(bus, "police", 21)
        serve(bus, "w03")
        deadline = time.monotonic() + 5
        while service.controller.state.phase != "rating" and time.monotonic() < deadline:
            time.sleep(0.02)
        prompt = service.controller.state.prompt
        assert prompt is not None, "the prompt did not reach the key-box evaluator"
        assert sim.press(5)  # 非常不满意
        while service.controller.state.phase != "thanks" and time.monotonic() < deadline:
            time.sleep(0.02)
        rows = bus.http.get("/api/v1/evaluations", params={"visit_id": prompt.visit_id}).json()
        assert len(rows) == 1 and rows[0]["label"] == "非常不满意" and rows[0]["is_bad"] is True
        cases = bus.http.get("/api/v1/rectifications").json()
        assert any(c["visit_id"] == prompt.visit_id for c in cases)
    finally:
        service.stop()
        sim.close()
