"""Job results after a restart: only what the broker never acknowledged is sent again, at most 50 a second,
and no job is printed twice; after a broker restart the agent is back online before it prints again."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from kiosk.printer.agent import PrinterAgent
from kiosk.printer.decoder import decode
from kiosk.printer.journal import Journal
from kiosk.printer.outbox import RESULTS_PER_S, RateLimiter
from kiosk.printer.samples import SAMPLES
from kiosk.printer.simulator import PrinterSimulator
from tests.bus.fixtures import HallBroker
from tests.printer.conftest import DEVICE, TOPICS, ZONE, Server


class FakeTime:
    """A clock that moves only when somebody sleeps: what a rate limiter does, without waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps = 0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.now += seconds


def fake_limiter() -> tuple[RateLimiter, FakeTime, list[float]]:
    """The agent's limiter on a fake clock, recording the instant of every message it lets through."""
    fake = FakeTime()
    allowed: list[float] = []

    class Recording(RateLimiter):
        def acquire(self) -> float:
            at = super().acquire()
            allowed.append(at)
            return at

    return Recording(RESULTS_PER_S, 1.0, fake.clock, fake.sleep), fake, allowed


def most_in_one_second(instants: list[float]) -> int:
    """The largest number of instants inside any half-open window of one second."""
    ordered = sorted(instants)
    best, start = 0, 0
    for end, t in enumerate(ordered):
        while t - ordered[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / f"{DEVICE}.journal"


def write_results(path: Path, outcomes: list[tuple[str, str, bool]]) -> None:
    """A journal as a previous run left it: (job_id, printed|failed, acknowledged) in this order."""
    journal = Journal(path)
    journal.load()
    for job_id, state, acked in outcomes:
        entry = journal.record(job_id, "queued", payload={"job_id": job_id})
        journal.record(job_id, "started")
        entry = journal.record(job_id, state, error=None if state == "printed" else "缺纸", sent=True)  # type: ignore[arg-type]
        if acked:
            assert journal.acknowledge(entry)
    journal.close()


def ticket(number: str) -> dict[str, object]:
    return {**SAMPLES["ticket"], "ticket": number}


def printed_numbers(sim: PrinterSimulator) -> Counter[str]:
    """Ticket numbers on paper (the big line), with how often each came out."""
    return Counter(line.text for data in sim.documents() for line in decode(data).text_lines if line.scale[0] == 4)


# --- the rate limiter, on a fake clock ---


def test_the_limiter_lets_at_most_50_through_in_any_second() -> None:
    fake = FakeTime()
    limiter = RateLimiter(RESULTS_PER_S, 1.0, fake.clock, fake.sleep)
    instants = [limiter.acquire() for _ in range(500)]
    assert most_in_one_second(instants) == 50
    assert instants == sorted(instants)
    # and no slower than that: the first 50 at once, then 50 more each second
    assert instants[49] == 0.0 and instants[50] == 1.0 and instants[-1] == 9.0


def test_the_limiter_does_not_delay_a_trickle() -> None:
    fake = FakeTime()
    limiter = RateLimiter(RESULTS_PER_S, 1.0, fake.clock, fake.sleep)
    for _ in range(120):
        limiter.acquire()
        fake.now += 0.5  # one result every half second, as a busy printer produces them
    assert fake.sleeps == 0


# --- restarts ---


def test_a_restart_resends_exactly_the_unacknowledged_results(
    make_agent: Callable[..., PrinterAgent], server: Server, sim: PrinterSimulator, tmp_path: Path
) -> None:
    outcomes = [(f"job-{i:03d}", "printed" if i % 4 else "failed", i % 3 != 0) for i in range(1, 31)]
    outcomes.append(("job-last", "printed", False))  # the newest is unacknowledged: it goes out last
    write_results(journal_path(tmp_path), outcomes)
    unacked = {job_id for job_id, _, acked in outcomes if not acked}
    assert len(unacked) == 11 and len(outcomes) - len(unacked) == 20

    agent = make_agent()
    server.inbox.result("job-last", timeout=10)  # results go out in journal order: all are in by now
    results = server.inbox.results()
    assert set(results) == unacked
    assert all(len(events) == 1 for events in results.values())
    states = {job_id: state for job_id, state, _ in outcomes}
    assert all(results[j][0]["status"] == states[j] for j in unacked)
    assert sim.documents() == []  # results are resent; no job is printed again

    assert agent.outbox.wait_idle(10)
    agent.stop()
    reloaded = Journal(journal_path(tmp_path)).load()
    assert {e.job_id for e in reloaded if not e.acked} == set()  # each resent result was acknowledged


def test_acknowledged_results_are_not_sent_again_after_a_restart(
    make_agent: Callable[..., PrinterAgent], server: Server, sim: PrinterSimulator
) -> None:
    agent = make_agent()
    first = [server.job("ticket", ticket(f"A{n:03d}")) for n in (1, 2, 3)]
    for job_id in first:
        assert server.inbox.result(job_id)["status"] == "printed"
    assert agent.outbox.wait_idle(10)
    agent.stop()

    make_agent()  # same state folder
    again = server.job("ticket", ticket("A004"))  # a second time: the old job
    server.job("ticket", ticket("A001"), job_id=first[0])  # the broker redelivering an old job
    assert server.inbox.result(again)["status"] == "printed"
    server.inbox.wait_for(lambda t, p: len(server.inbox.results().get(first[0], [])) == 2)

    results = server.inbox.results()
    # a restart resent nothing; the redelivered job was answered from the journal, not printed again
    assert [len(results[j]) for j in first] == [2, 1, 1]
    assert len(results[again]) == 1
    assert printed_numbers(sim) == Counter({"A001": 1, "A002": 1, "A003": 1, "A004": 1})


def test_a_large_backlog_goes_out_at_most_50_a_second(
    make_agent: Callable[..., PrinterAgent], server: Server, tmp_path: Path
) -> None:
    outcomes = [(f"old-{i:04d}", "printed", False) for i in range(300)]
    write_results(journal_path(tmp_path), outcomes)
    limiter, fake, allowed = fake_limiter()

    agent = make_agent(limiter=limiter)
    server.inbox.result("old-0299", timeout=20)
    assert agent.outbox.wait_idle(10)

    assert set(server.inbox.results()) == {job_id for job_id, _, _ in outcomes}
    assert agent.outbox.sent == 300 and len(allowed) == 300
    assert most_in_one_second(allowed) <= RESULTS_PER_S
    assert fake.now >= 5.0  # 300 results take at least six one-second windows (on the agent's clock)


def test_after_a_broker_restart_the_printer_is_online_before_it_prints(
    make_agent: Callable[..., PrinterAgent], server: Server, sim: PrinterSimulator, broker: HallBroker
) -> None:
    agent = make_agent()
    broker.stop()
    assert wait_until(lambda: not agent.bus.connected and not server.client.connected)
    restarted = datetime.now(ZONE)
    mark = len(server.inbox.messages)
    job_id = server.job("ticket", ticket("B007"), wait=False)  # issued while the broker is away
    broker.start()  # the persistence file brings the sessions back

    result = server.inbox.result(job_id, timeout=15)
    assert result["status"] == "printed"
    availability = TOPICS.device(DEVICE, "availability")
    events = [
        p["state"] if t == availability else p.get("type")
        for t, p in server.inbox.messages[mark:]
        if p is not None and (p.get("job_id") or (t == availability and datetime.fromisoformat(p["ts"]) >= restarted))
    ]
    assert events.index("online") < events.index("job_result"), events
    assert printed_numbers(sim) == Counter({"B007": 1})


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll a condition (a bound, not a measurement)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
