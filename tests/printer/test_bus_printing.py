"""Every document through the real bus: server account → broker → printer agent → TCP simulator → decoder."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from kiosk.printer.agent import PrinterAgent
from kiosk.printer.decoder import Decoded, decode
from kiosk.printer.layout import SEAL_LINE
from kiosk.printer.page import PAPERS
from kiosk.printer.samples import SAMPLES
from kiosk.printer.simulator import PrinterSimulator
from kiosk.printer.textwidth import text_width
from tests.bus.fixtures import HallBroker
from tests.printer.conftest import DEVICE, TOPICS, ZONE, Server, bus_settings, printer_profile, wait_online


def joined(decoded: Decoded) -> str:
    """All printed text with line breaks and wrap indentation removed (wrapped values read whole)."""
    return "".join(line.strip() for line in decoded.lines)


def assert_clean(decoded: Decoded, width: int) -> None:
    """Chinese went out in Chinese mode, nothing printed as `?`, and no line is wider than the paper."""
    assert decoded.problems == []
    text = decoded.text
    assert "?" not in text and "\ufffd" not in text
    columns = PAPERS[width].columns
    for line in decoded.text_lines:
        assert text_width(line.text) * line.scale[0] <= columns, line.text
    assert decoded.cuts == 1


def print_all(server: Server, sim: PrinterSimulator) -> dict[str, Decoded]:
    """Publish one job of every kind and return each decoded document once all were printed."""
    ids = {kind: server.job(kind, document) for kind, document in SAMPLES.items()}
    for kind, job_id in ids.items():
        result = server.inbox.result(job_id)
        assert (result["status"], result["error"]) == ("printed", None), kind
    documents = sim.documents()
    assert len(documents) == len(SAMPLES)
    return dict(zip(SAMPLES, (decode(d) for d in documents), strict=True))  # printed in arrival order


@pytest.mark.parametrize("width", [58, 80])
def test_every_document_prints_through_the_bus(
    width: int, make_agent: Callable[..., PrinterAgent], server: Server, sim: PrinterSimulator
) -> None:
    make_agent(width=width)
    printed = print_all(server, sim)
    for decoded in printed.values():
        assert_clean(decoded, width)

    ticket, doc = printed["ticket"], SAMPLES["ticket"]
    big = [line for line in ticket.text_lines if line.text == "A012"]
    assert big and big[0].scale[0] >= 4 and big[0].align == "center"
    assert doc["item_name"] in joined(ticket)
    assert "张*三" in ticket.text and "公安服务" in ticket.text and "前面等候：5 人" in ticket.text
    assert ticket.qr_codes == [doc["qr"]]

    receipt, doc = printed["receipt"], SAMPLES["receipt"]
    text = joined(receipt)
    for expected in (
        doc["item_name"],
        doc["serial_no"],
        "受理人：李*华",
        "12号窗口",
        "2026年11月23日10:42",
        "查询码：482913",
    ):
        assert expected.replace(" ", "") in text.replace(" ", "")
    for material in doc["materials_received"] + doc["materials_to_supplement"]:
        assert material["name"] in text
    assert "补正期限：2026年12月07日前" in text
    assert SEAL_LINE in receipt.text
    assert receipt.qr_codes == [doc["qr"]]

    notice, doc = printed["notice"], SAMPLES["notice"]
    text = joined(notice)
    assert "一次性告知书" in notice.text and doc["item_name"] in text
    for material in doc["materials"]:
        assert material["name"] in text and material["note"] in text
    assert "2026年12月07日前" in text and notice.qr_codes == [doc["qr"]]

    guide = printed["guide"]
    assert "收费标准：￥120.00/本" in guide.text
    assert all(m["name"] in joined(guide) for m in SAMPLES["guide"]["materials"])


def test_paper_out_fails_fast_and_sends_nothing(
    make_agent: Callable[..., PrinterAgent], server: Server, sim: PrinterSimulator
) -> None:
    sim.set_state(paper="out")
    make_agent(poll_s=1)
    status_topic = TOPICS.device(DEVICE, "status")
    server.inbox.wait_for(lambda t, p: t == status_topic and p["paper"] == "out")
    job_id = server.job("ticket", SAMPLES["ticket"])
    result = server.inbox.result(job_id)
    assert result["status"] == "failed" and "缺纸" in result["error"]
    last = server.status()[-1]
    assert (last["paper"], last["ok"]) == ("out", False) and "缺纸" in last["error"]
    assert sim.documents() == []  # only status queries reached the printer

    sim.set_state(paper="ok")  # paper refilled: the same job, sent again by the server, prints
    server.inbox.wait_for(lambda t, p: t == status_topic and p["paper"] == "ok", timeout=5)
    server.job("ticket", SAMPLES["ticket"], job_id=job_id)
    assert sim.wait_for(lambda s: len(s.documents()) == 1)
    assert server.inbox.wait_for(lambda t, p: p.get("job_id") == job_id and p.get("status") == "printed")


def test_cover_open_fails_with_its_reason(
    make_agent: Callable[..., PrinterAgent], server: Server, sim: PrinterSimulator
) -> None:
    sim.set_state(cover="open")
    make_agent()
    result = server.inbox.result(server.job("receipt", SAMPLES["receipt"]))
    assert result["status"] == "failed" and "纸仓盖" in result["error"]
    assert server.status()[-1]["cover"] == "open" and sim.documents() == []


def test_silent_printer_is_offline_and_job_fails(
    make_agent: Callable[..., PrinterAgent], server: Server, sim: PrinterSimulator
) -> None:
    sim.set_state(offline=True)
    make_agent()
    result = server.inbox.result(server.job("ticket", SAMPLES["ticket"]))
    assert result["status"] == "failed" and "无响应" in result["error"]
    status = server.status()[-1]
    assert status["offline"] is True and status["ok"] is False
    assert sim.documents() == []


def test_expired_job_is_dropped(make_agent: Callable[..., PrinterAgent], server: Server, sim: PrinterSimulator) -> None:
    make_agent()
    published = datetime.now(ZONE) - timedelta(seconds=90)  # delivered late: its one minute passed
    expired = server.job("ticket", SAMPLES["ticket"], ts=published, ttl=timedelta(minutes=1))
    fresh = server.job("guide", SAMPLES["guide"])
    assert server.inbox.result(expired)["error"].startswith("已过期")
    assert server.inbox.result(fresh)["status"] == "printed"
    documents = [decode(d) for d in sim.documents()]
    assert len(documents) == 1 and "办事材料清单" in documents[0].text


def test_duplicate_job_id_prints_once(
    make_agent: Callable[..., PrinterAgent], server: Server, sim: PrinterSimulator
) -> None:
    make_agent()
    job_id = server.job("ticket", SAMPLES["ticket"])
    server.job("ticket", SAMPLES["ticket"], job_id=job_id)  # a retry racing the first copy
    assert server.inbox.result(job_id)["status"] == "printed"
    server.job("ticket", SAMPLES["ticket"], job_id=job_id)  # a retry long after it printed
    server.inbox.wait_for(lambda t, p: len(server.inbox.results().get(job_id, [])) >= 2)
    assert all(r["status"] == "printed" for r in server.inbox.results()[job_id])
    other = server.job("notice", SAMPLES["notice"])
    assert server.inbox.result(other)["status"] == "printed"
    texts = [decode(d).text for d in sim.documents()]
    assert sum("A012" in t for t in texts) == 1 and len(texts) == 2


def test_status_polling_publishes_changes(
    make_agent: Callable[..., PrinterAgent], server: Server, sim: PrinterSimulator
) -> None:
    make_agent(poll_s=1)
    topic = TOPICS.device(DEVICE, "status")
    first = server.inbox.wait_for(lambda t, p: t == topic)
    assert (first["ok"], first["paper"], first["cover"], first["offline"]) == (True, "ok", "closed", False)
    sim.set_state(paper="near_end")
    near = server.inbox.wait_for(lambda t, p: t == topic and p["paper"] == "near_end", timeout=4)
    assert near["ok"] is True and near["error"] is None  # near its end still prints
    sim.set_state(cover="open")
    opened = server.inbox.wait_for(lambda t, p: t == topic and p["cover"] == "open", timeout=4)
    assert opened["ok"] is False and "纸仓盖" in opened["error"]
    sim.set_state(cover="closed", offline=True)
    silent = server.inbox.wait_for(lambda t, p: t == topic and p["offline"], timeout=5)
    assert silent["ok"] is False and silent["paper"] is None


def test_demo_mode_starts_its_own_simulator(broker: HallBroker, server: Server, tmp_path: Path) -> None:
    profile = printer_profile(broker, "printer-kiosk-24h-01", port=0, width=58)
    since = datetime.now(ZONE).replace(microsecond=0)
    agent = PrinterAgent(profile, bus_settings(broker, "printer-kiosk-24h-01"), tmp_path)
    agent.start()
    try:
        wait_online(server, "printer-kiosk-24h-01", since)
        assert agent.simulator is not None and agent.simulator.port != 0
        job_id = server.job("ticket", SAMPLES["ticket"], device="printer-kiosk-24h-01")
        assert server.inbox.result(job_id, device="printer-kiosk-24h-01")["status"] == "printed"
        capture = tmp_path / "printer-kiosk-24h-01.capture.bin"
        assert "A012" in decode(capture.read_bytes()).text
    finally:
        agent.stop()
