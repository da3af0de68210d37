"""Four-digit numbers end to end on a real broker and hall server, through kiosk-01's own bus service and
printer: ticket.issue answers G1000 and the slip prints it whole; after G9999 the kiosk is told
`numbers_exhausted` with the Chinese message it shows."""

from __future__ import annotations

import pytest

from hallserver.db import session_scope
from hallserver.models import TicketCounter
from kiosk.printer.agent import PrinterAgent
from kiosk.printer.decoder import decode
from kiosk.printer.simulator import PrinterSimulator
from kiosk.terminal.service import KioskError, KioskService
from tests.gateway.fixtures import Bus


def set_counter(bus: Bus, series: str, last: int) -> None:
    """As if `last` tickets of the series had been issued today (no need to issue them one by one)."""
    hall = bus.http.app.state.hall  # type: ignore[attr-defined]
    with session_scope(hall.engine) as s:
        row = s.get(TicketCounter, (series, hall.ctx.today())) or TicketCounter(
            series=series, service_date=hall.ctx.today()
        )
        row.last = last
        s.add(row)


def test_the_kiosk_issues_and_prints_g1000_then_hears_numbers_exhausted(
    bus: Bus, kiosk_service: KioskService, kiosk_printer: tuple[PrinterAgent, PrinterSimulator]
) -> None:
    _, sim = kiosk_printer
    set_counter(bus, "G", 999)
    issued = kiosk_service.request("ticket.issue", group="consult")
    assert issued["ticket"] == "G1000" and issued["print_job_id"]
    assert sim.wait_for(lambda s: len(s.documents()) >= 1, timeout=10)
    printed = decode(sim.documents()[-1])
    lines = printed.text_lines
    number = lines[next(i for i, line in enumerate(lines) if line.text.strip() == "您的排队号") + 1]
    assert number.text.strip() == "G1000" and number.scale == (4, 4)

    set_counter(bus, "G", 9999)
    with pytest.raises(KioskError) as refused:
        kiosk_service.request("ticket.issue", group="consult")
    assert refused.value.code == "numbers_exhausted"
    assert str(refused.value) == "今日综合咨询号码已发完，请明日再来或预约办理"
