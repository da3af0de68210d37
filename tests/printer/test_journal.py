"""The job journal, and an agent recovering from one: queued jobs print, started ones are reported failed."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from broker.messages import PrintJob
from kiosk.printer.agent import EXPIRED, INTERRUPTED, PrinterAgent, local_deadline
from kiosk.printer.decoder import decode
from kiosk.printer.journal import Journal
from kiosk.printer.samples import SAMPLES
from kiosk.printer.simulator import PrinterSimulator
from tests.printer.conftest import DEVICE, ZONE, Server


def test_journal_survives_reload_and_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "p.journal"
    journal = Journal(path)
    assert journal.load() == []
    journal.record("a", "queued", payload={"job_id": "a"})
    journal.record("b", "queued", payload={"job_id": "b"})
    journal.record("a", "started")
    journal.record("a", "printed")
    journal.record("b", "started")
    journal.record("c", "failed", error="打印机缺纸")
    journal.close()
    with path.open("ab") as out:
        out.write(b'{"job_id": "d", "sta')  # killed while writing
    entries = {e.job_id: e for e in Journal(path).load()}
    assert [e.job_id for e in Journal(path).load()] == ["a", "b", "c"]  # arrival order, torn line dropped
    assert entries["a"].state == "printed" and entries["a"].final and entries["a"].sent
    assert entries["b"].state == "started" and entries["b"].sent and not entries["b"].final
    assert entries["c"].state == "failed" and not entries["c"].sent and not entries["c"].final
    assert all(json.loads(line) for line in path.read_bytes().splitlines())  # compacted, no torn line


def test_agent_recovers_its_journal(
    make_agent: Callable[..., PrinterAgent], server: Server, sim: PrinterSimulator, tmp_path: Path
) -> None:
    now = datetime.now(ZONE)

    def job(job_id: str, number: str) -> dict[str, object]:
        document = {**SAMPLES["ticket"], "ticket": number}
        return PrintJob(
            ts=now, job_id=job_id, kind="ticket", document=document, expires_at=now + timedelta(minutes=5)
        ).model_dump(mode="json")

    journal = Journal(tmp_path / "state" / f"{DEVICE}.journal")
    journal.load()
    journal.record("was-printing", "queued", payload=job("was-printing", "A001"))
    journal.record("was-printing", "started")
    journal.record("was-waiting", "queued", payload=job("was-waiting", "A002"))
    stale = (now - timedelta(seconds=1)).timestamp()  # it waited for the printer past its deadline
    journal.record("waited-too-long", "queued", payload=job("waited-too-long", "A003"), deadline=stale)
    journal.close()

    make_agent()
    assert server.inbox.result("waited-too-long")["error"] == EXPIRED
    interrupted = server.inbox.result("was-printing")
    assert (interrupted["status"], interrupted["error"]) == ("failed", INTERRUPTED)
    assert server.inbox.result("was-waiting")["status"] == "printed"
    texts = [decode(d).text for d in sim.documents()]
    assert len(texts) == 1 and "A002" in texts[0]  # the interrupted job was not printed again


def test_expiry_uses_the_servers_clock_unless_it_is_plainly_elsewhere() -> None:
    now = datetime.now(ZONE)
    ttl = timedelta(minutes=5)

    def job(ts: datetime) -> PrintJob:
        return PrintJob(ts=ts, job_id="j", kind="ticket", document={}, expires_at=ts + ttl)

    assert local_deadline(job(now), now) == now + ttl
    late = now - timedelta(minutes=3)  # delivered three minutes late: two minutes left
    assert local_deadline(job(late), now) == late + ttl
    for demo_offset in (timedelta(days=-1), timedelta(hours=3)):  # HALLQ_CLOCK_START behind or ahead
        assert local_deadline(job(now + demo_offset), now) == now + ttl
