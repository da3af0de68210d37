"""预约办事 over the real broker and hall server (contract v2.1): appointment.slots lists the item's days and
free slots, appointment.book books one for the card's holder and prints the 预约凭条 with the code; a second
booking of the same item that day is refused in Chinese, and a window caller may not book (ACL)."""

from __future__ import annotations

import pytest

from kiosk.printer.agent import PrinterAgent
from kiosk.printer.decoder import decode
from kiosk.printer.simulator import PrinterSimulator
from kiosk.terminal.service import KioskError, KioskService
from tests.gateway.fixtures import Bus
from tests.integration.helpers import id_number

RESIDENCE = "11440300MB2D41730K000172102000000"


def test_book_a_slot_and_print_the_code(
    bus: Bus, kiosk_service: KioskService, kiosk_printer: tuple[PrinterAgent, PrinterSimulator]
) -> None:
    _, sim = kiosk_printer
    slots = kiosk_service.request("appointment.slots", item_code=RESIDENCE)
    assert slots["item_name"] == "居住证申领" and slots["days"] and slots["slots"]
    assert all(s["free"] > 0 for s in slots["slots"][:1])
    other = slots["days"][-1]["date"]
    later = kiosk_service.request("appointment.slots", item_code=RESIDENCE, day=other)
    assert later["date"] == other
    person = {"id_number": id_number(41), "name": "张小三", "method": "id_card"}
    start = slots["slots"][0]["start"]
    booked = kiosk_service.request("appointment.book", item_code=RESIDENCE, slot_start=start, identity=person)
    assert len(booked["code"]) == 8 and booked["masked_name"] == "张*三" and booked["print_job_id"]
    assert id_number(41) not in str(booked)
    assert sim.wait_for(lambda s: len(s.documents()) >= 1, timeout=10)
    printed = "\n".join(decode(sim.documents()[-1]).lines)
    assert "预约码" in printed and booked["code"] in printed and "居住证申领" in printed
    with pytest.raises(KioskError) as again:
        kiosk_service.request("appointment.book", item_code=RESIDENCE, slot_start=start, identity=person)
    assert again.value.code == "already_booked" and "每天只能预约一次" in again.value.message
    fewer = kiosk_service.request("appointment.slots", item_code=RESIDENCE, day=slots["date"])
    assert fewer["slots"][0]["free"] == slots["slots"][0]["free"] - 1


def test_a_caller_may_not_book(bus: Bus) -> None:
    """The generated ACL lets only kiosks send the booking actions: the broker drops a caller's request."""
    from broker.client import BusTimeout
    from broker.messages import AppointmentSlots, Request

    caller, _ = bus.device("caller-w01")
    request = AppointmentSlots(ts=bus.clock.now(), request_id=Request.new_id(), item_code=RESIDENCE)
    with pytest.raises(BusTimeout):
        caller.request("appointment.slots", request, timeout_s=1.0, attempts=1)
