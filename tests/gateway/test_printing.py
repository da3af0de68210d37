"""The kiosk's ticket through the server to a real printer agent and the byte-level printer simulator; and
what the kiosk is told when the printer cannot print."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.printer.agent import PrinterAgent
from kiosk.printer.decoder import decode
from kiosk.printer.simulator import PrinterSimulator
from tests.gateway.fixtures import Bus
from tests.gateway.test_gateway import ticket_request
from tests.integration.helpers import id_number
from tests.printer.conftest import bus_settings, printer_profile

PRINTER = "printer-kiosk-01"


@pytest.fixture(params=[1, 300], ids=["poll-1s", "poll-5min"])
def printer(
    bus: Bus, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[PrinterAgent, PrinterSimulator]]:
    """The kiosk's printer: a real agent on the simulator, polling status every second or rarely."""
    with PrinterSimulator(port=0) as sim:
        profile = printer_profile(bus.broker, PRINTER, sim.port, poll_s=request.param)
        agent = PrinterAgent(
            profile, bus_settings(bus.broker, PRINTER), tmp_path / "printer-state", status_timeout_s=0.5
        )
        agent.start()
        assert agent.bus.wait_connected(5) and agent.ready.wait(5)
        bus.wait_online(PRINTER)
        try:
            yield agent, sim
        finally:
            agent.stop()


def test_ticket_is_printed_and_paper_out_is_said_at_once(
    bus: Bus, printer: tuple[PrinterAgent, PrinterSimulator]
) -> None:
    _, sim = printer
    kiosk, notices = bus.device("kiosk-01", bus.topics.device("kiosk-01", "notice"))
    reply = kiosk.request(
        "ticket.issue",
        ticket_request(
            "kiosk-01", group="police", identity={"method": "id_card", "id_number": id_number(1), "name": "张小三"}
        ),
    )
    assert reply.data is not None and reply.data["print_job_id"] and reply.data["print_error"] is None
    assert sim.wait_for(lambda s: any(b"\x1dV" in d or b"\x1d\x56" in d for d in s.documents()), timeout=10)
    printed = decode(sim.documents()[-1])
    text = "\n".join(printed.lines)
    assert "A001" in text and "张*三" in text and "南山区政务服务中心" in text
    assert (
        printed.cuts and printed.qr_codes and printed.qr_codes[0] == reply.data["lookup_url"]  # unguessable link
    )
    assert not printed.qr_codes[0].endswith(f"/{reply.data['ticket_id']}")

    deadline = time.time() + 10  # the first slip's result is in (the server forgets a job once it is)
    while reply.data["print_job_id"] in bus.gateway._jobs and time.time() < deadline:
        time.sleep(0.05)
    assert reply.data["print_job_id"] not in bus.gateway._jobs and notices.messages == []

    # Paper runs out.
    sim.set_state(paper="out")
    before = len(sim.documents())
    if printer[0].profile.status_poll_s == 1:
        # The agent's poll tells the server: the next ticket is not sent to paper and the reply says why.
        deadline = time.time() + 15
        while bus.gateway.seen[PRINTER].status.get("paper") != "out" and time.time() < deadline:
            time.sleep(0.1)
        second = kiosk.request("ticket.issue", ticket_request("kiosk-01", group="consult"))
        assert second.data is not None and second.data["print_job_id"] is None
        assert second.data["print_error"] == "打印机缺纸，请凭屏幕上的号码等候叫号" and second.data["ticket"] == "G001"
        assert notices.messages == []  # nothing was attempted, so nothing failed
    else:
        # The server does not know yet: the job goes out, the agent fails it fast, the kiosk is told.
        second = kiosk.request("ticket.issue", ticket_request("kiosk-01", group="consult"))
        assert second.data is not None and second.data["print_job_id"]
        notice = notices.wait_for(lambda t, p: p is not None, timeout=10)
        assert notice is not None and notice["type"] == "print_failed" and notice["ticket"] == "G001"
        assert notice["job_id"] == second.data["print_job_id"] and "缺纸" in notice["message"]
    assert len(sim.documents()) == before  # not a byte went to the empty printer
