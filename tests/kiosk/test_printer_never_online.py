"""A kiosk whose printer never came online (never sent availability) must not tell the citizen to take a
slip from the tray: the server answers print_error at once and the ticket screen says the slip did not
print. Once the printer says it is online the next ticket is sent to it; a clean shutdown stops it again."""

from __future__ import annotations

import time
from pathlib import Path

from kiosk.printer.agent import PrinterAgent
from kiosk.printer.simulator import PrinterSimulator
from kiosk.terminal.service import KioskService
from tests.gateway.fixtures import Bus
from tests.integration.helpers import id_number
from tests.kiosk.driver import PORTRAIT, KioskDriver
from tests.printer.conftest import bus_settings, printer_profile
from tests.ui.stage import Stage

PRINTER = "printer-kiosk-01"
RESIDENCE = "11440300MB2D41730K000172102000000"


def _wait_online(bus: Bus, online: bool) -> None:
    deadline = time.monotonic() + 10
    while bus.gateway.seen[PRINTER].online != online and time.monotonic() < deadline:
        time.sleep(0.05)
    assert bus.gateway.seen[PRINTER].online == online


def test_a_never_seen_printer_is_not_sent_the_slip(bus: Bus, kiosk_service: KioskService, tmp_path: Path) -> None:
    seen = bus.gateway.seen[PRINTER]
    assert seen.since is None and not seen.online  # not a word from the printer yet
    issued = kiosk_service.request(
        "ticket.issue", group="police", identity={"id_number": id_number(1), "method": "id_card"}
    )
    assert issued["print_job_id"] is None and issued["print_error"].startswith("打印机离线")
    guide = kiosk_service.request("guide.print", item_code=RESIDENCE)
    assert guide["print_job_id"] is None and "二维码" in guide["print_error"]
    assert bus.gateway._jobs == {}  # nothing queued for a printer nobody knows is there

    with PrinterSimulator(port=0) as sim:
        profile = printer_profile(bus.broker, PRINTER, sim.port, poll_s=1)
        agent = PrinterAgent(profile, bus_settings(bus.broker, PRINTER), tmp_path / "state", status_timeout_s=0.5)
        agent.start()
        try:
            assert agent.bus.wait_connected(5) and agent.ready.wait(5)
            _wait_online(bus, True)
            printed = kiosk_service.request(
                "ticket.issue", group="police", identity={"id_number": id_number(2), "method": "id_card"}
            )
            assert printed["print_job_id"] and printed["print_error"] is None
            assert sim.wait_for(lambda s: len(s.documents()) >= 1, timeout=10)
        finally:
            agent.stop()
        _wait_online(bus, False)  # a clean shutdown says offline
    again = kiosk_service.request(
        "ticket.issue", group="police", identity={"id_number": id_number(3), "method": "id_card"}
    )
    assert again["print_job_id"] is None and again["print_error"].startswith("打印机离线")


def test_the_ticket_screen_never_points_to_the_tray_of_a_printer_never_online(
    bus: Bus, stage: Stage, tmp_path: Path
) -> None:
    kiosk = KioskDriver(bus, stage, tmp_path, PORTRAIT, "never-online")
    try:
        kiosk.tap("取号")
        kiosk.screen("identity")
        kiosk.tap("没带身份证？咨询类业务直接取号")
        kiosk.tap("确认取号")
        kiosk.screen("ticket")
        assert kiosk.state.result["print_job_id"] is None
        assert kiosk.shows("凭条未能打印") and kiosk.shows("打印机离线")
        assert not kiosk.shows("出纸口")  # neither 请取走下方出纸口的排队凭条 nor 请在下方出纸口取走
        slip = next(w for w in kiosk.widgets() if hasattr(w, "slip_state"))
        assert slip.slip_state == "failed"
        kiosk.shot("printer-never-online")
    finally:
        kiosk.close()
