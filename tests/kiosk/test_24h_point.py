"""24-hour mode does what the hall display promises, at 22:00 on a working day, on the real parts: the 24-hour
point's kiosk (its flows over its own bus service), its printer (a real agent on the byte-level simulator),
the pickup cabinet (board and ID reader on ptys), the hall server on the real broker. Walk-in tickets are
closed; booking (with another day chosen), progress (by serial and by card), rating with the proof of the
visit (the card, or the ticket and its rating code — visit.check first), the printed checklist, and
证照自助领取 all work."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from firmware_config.hall import load_hall_profile
from hallserver.db import session_scope
from hallserver.models import Visit
from hallserver.services import rating_proof
from kiosk.cabinet.hardware import CabinetHardware
from kiosk.cabinet.service import CabinetService
from kiosk.printer.agent import PrinterAgent
from kiosk.printer.decoder import decode
from kiosk.printer.simulator import PrinterSimulator
from kiosk.terminal.catalog import CatalogCache
from kiosk.terminal.flows import KioskFlows
from kiosk.terminal.hall import HallFacts
from kiosk.terminal.service import KioskService
from kiosk.terminal.session import KioskSession
from tests.cabinet.test_pickup import API, CABINET, ITEM, cabinet, finished_case, until  # noqa: F401 - fixture
from tests.conftest import local, login
from tests.gateway.fixtures import Bus
from tests.integration.helpers import id_number
from tests.kiosk.conftest import kiosk_setup
from tests.kiosk.fakes import DEMO_HALL, PERSON_ID, PERSON_NAME, Card
from tests.printer.conftest import bus_settings, printer_profile

KIOSK, PRINTER = "kiosk-24h-01", "printer-kiosk-24h-01"
STRANGER = "王小二"


@pytest.fixture
def point(
    bus: Bus,
    tmp_path: Path,
    cabinet: tuple[CabinetService, CabinetHardware],  # noqa: F811
) -> Iterator[tuple[KioskFlows, PrinterSimulator, dict[str, str]]]:
    """The day's work done (two finished cases, one 证照 in door 3), then 22:00: the kiosk and its printer."""
    staff = login(bus.http, "s05")
    serials = {
        "card": finished_case(bus, staff, PERSON_ID, PERSON_NAME),
        "code": finished_case(bus, staff, id_number(61), STRANGER),
    }
    put = bus.http.post(f"{API}/pickup/deposits", json={"serial_no": serials["card"], "cabinet": CABINET, "door": 3})
    assert put.status_code == 200, put.text
    board = cabinet[1].board_sim
    assert board is not None
    board.put(3)
    bus.clock.set(local(2026, 11, 23, 22, 0))
    with PrinterSimulator(port=0) as sim:
        agent = PrinterAgent(
            printer_profile(bus.broker, PRINTER, sim.port, poll_s=1),
            bus_settings(bus.broker, PRINTER),
            tmp_path / "printer-state",
            status_timeout_s=0.5,
        )
        agent.start()
        assert agent.bus.wait_connected(5) and agent.ready.wait(5)
        bus.wait_online(PRINTER)
        setup = kiosk_setup(bus, KIOSK)
        service = KioskService(setup.profile, setup.bus, bus.clock.now)  # type: ignore[arg-type]
        service.start(wait_s=5)
        try:
            assert agent.ready.wait(5) and service.bus.wait_connected(5)
            until(lambda: bus.gateway.seen[PRINTER].online, "the printer online")
            cache = CatalogCache(tmp_path / "catalog.json", DEMO_HALL / "catalog")
            cache.load()
            facts = HallFacts.from_profile(load_hall_profile(DEMO_HALL / "hall.yaml"))
            yield KioskFlows(KioskSession(60), service, setup.profile, facts, cache, bus.clock.now), sim, serials  # type: ignore[arg-type]
        finally:
            service.stop()
            agent.stop()


def _printed(sim: PrinterSimulator, count: int) -> str:
    until(lambda: len(sim.documents()) >= count, f"{count} documents printed")
    return "\n".join(decode(sim.documents()[count - 1]).lines)


def test_what_the_24_hour_point_promises_works_after_hours(
    bus: Bus,
    point: tuple[KioskFlows, PrinterSimulator, dict[str, str]],
    cabinet: tuple[CabinetService, CabinetHardware],  # noqa: F811
) -> None:
    flows, sim, serials = point
    assert not flows.is_open() and flows.available("ticket") is not None  # walk-in tickets are closed
    for purpose in ("booking", "guide", "progress", "evaluation"):
        assert flows.available(purpose) is None, purpose

    # 办件进度: by the serial typed on the keypad, then by the card
    flows.start("progress")
    flows.session.update(keypad=serials["code"])
    flows.query_progress()
    assert flows.state.screen == "progress_result", flows.state.error
    assert [c["serial_no"] for c in flows.state.result["cases"]] == [serials["code"]]
    flows.home()
    flows.start("progress")
    flows.card_presented(Card())
    assert flows.state.screen == "progress_result", flows.state.error
    assert serials["card"] in [c["serial_no"] for c in flows.state.result["cases"]]
    flows.home()

    # 好差评 with the card: the visit list, visit.check, then the level
    flows.start("evaluation")
    flows.card_presented(Card())
    assert flows.state.screen == "visits", flows.state.error
    (visit,) = flows.state.result["visits"]
    flows.choose_visit(visit["visit_id"])
    assert flows.state.screen == "rate" and flows.state.result["window_name"], flows.state.error
    flows.rate(5)
    assert flows.state.screen == "thanks", flows.state.error
    flows.home()
    # ... and with today's ticket and the rating code of the invitation (no card)
    hall = bus.http.app.state.hall  # type: ignore[attr-defined]
    with session_scope(hall.engine) as s:
        other = s.exec(select(Visit).where(Visit.serial_no == serials["code"])).one()
        ticket, code = other.ticket_number, rating_proof.rating_code(hall.ctx, other)
    flows.start("evaluation")
    flows.session.update(keypad=f"{ticket}{code}")
    flows.rate_ticket()
    assert flows.state.screen == "rate", flows.state.error
    flows.rate(4)
    assert flows.state.screen == "thanks", flows.state.error
    flows.home()

    # 办事指南 with the printed one-time checklist
    flows.start("guide")
    flows.choose_item(ITEM)
    assert flows.state.screen == "guide"
    flows.print_guide()
    assert flows.state.notice == "材料清单正在打印，请在下方出纸口取走", flows.state.error
    assert "办事材料清单" in _printed(sim, 1)
    flows.home()

    # 预约办事 for a later day: another day chosen, a slot booked, the code printed
    flows.start("booking")
    flows.card_presented(Card())
    flows.choose_item(ITEM)
    assert flows.state.screen == "slots", flows.state.error
    days = [d["date"] for d in flows.state.result["days"] if d["free"]]
    assert len(days) >= 2 and flows.state.day == days[0]
    flows.booking_slots(days[1])
    assert flows.state.day == days[1] and flows.state.result["date"] == days[1]  # the day chosen is shown
    slot = next(s for s in flows.state.result["slots"] if s["free"])
    assert slot["start"].startswith(days[1])
    flows.book(slot["start"])
    assert flows.state.screen == "booked", flows.state.error
    booked = flows.state.result
    assert booked["print_job_id"] and booked["code"] in _printed(sim, 2)
    flows.home()

    # 证照自助领取: the applicant's card opens door 3 of the cabinet
    service, hw = cabinet
    assert hw.card_sim is not None and hw.board_sim is not None
    hw.card_sim.insert("resident")
    until(lambda: 3 in service.waiting, "door 3 opening")
    assert hw.board_sim.state(3) == (True, True)
