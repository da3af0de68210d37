"""The card watcher on a real reader and simulator: one CardPresented per card, one CardRemoved when it
leaves, faults once, nothing repeated while a card stays on the reader."""

from __future__ import annotations

import queue

import pytest

from kiosk.idcard.driver import SamvReader
from kiosk.idcard.simulator import IdCardSimulator
from kiosk.idcard.watcher import CardEvent, CardPresented, CardRemoved, CardWatcher, ReaderFault


class Events:
    """What the watcher reported, in order."""

    def __init__(self) -> None:
        self.queue: queue.Queue[CardEvent] = queue.Queue()

    def __call__(self, event: CardEvent) -> None:
        self.queue.put(event)

    def next(self, timeout: float = 3.0) -> CardEvent:
        return self.queue.get(timeout=timeout)

    def drained(self) -> list[CardEvent]:
        out = []
        while not self.queue.empty():
            out.append(self.queue.get_nowait())
        return out


@pytest.fixture
def events() -> Events:
    return Events()


def test_present_then_removed_once_each(sim: IdCardSimulator, reader: SamvReader, events: Events) -> None:
    watcher = CardWatcher(reader, events)
    watcher.poll_once()
    assert events.drained() == []
    sim.insert("resident")
    for _ in range(4):  # the card stays on the reader: no second CardPresented
        watcher.poll_once()
    (presented,) = events.drained()
    assert isinstance(presented, CardPresented) and presented.card.name == "李测试"
    sim.remove()
    for _ in range(3):
        watcher.poll_once()
    assert events.drained() == [CardRemoved()]


def test_a_swapped_card_is_presented(sim: IdCardSimulator, reader: SamvReader, events: Events) -> None:
    watcher = CardWatcher(reader, events)
    sim.insert("resident")
    watcher.poll_once()
    sim.insert("elderly")  # taken away and another put down between two polls
    watcher.poll_once()
    watcher.poll_once()
    got = events.drained()
    assert [type(e) for e in got] == [CardPresented, CardRemoved, CardPresented]
    assert isinstance(got[2], CardPresented) and got[2].card.name == "王老测试"


def test_the_same_card_put_back_is_presented_again(sim: IdCardSimulator, reader: SamvReader, events: Events) -> None:
    watcher = CardWatcher(reader, events)
    sim.insert("child")
    watcher.poll_once()
    sim.remove()
    watcher.poll_once()
    sim.insert("child")
    watcher.poll_once()
    assert [type(e) for e in events.drained()] == [CardPresented, CardRemoved, CardPresented]


def test_an_invalid_card_faults_once_and_is_not_read_again(
    sim: IdCardSimulator, reader: SamvReader, events: Events
) -> None:
    watcher = CardWatcher(reader, events)
    sim.insert("bad-number")
    for _ in range(3):
        watcher.poll_once()
    (fault,) = events.drained()
    assert isinstance(fault, ReaderFault) and fault.kind == "InvalidIdentityError" and "校验" in fault.message
    reads = sim.requests.count((0x30, 0x01))
    sim.remove()
    watcher.poll_once()
    assert events.drained() == []  # nothing was presented, so nothing is removed
    assert sim.requests.count((0x30, 0x01)) == reads == 1


def test_removal_mid_read_is_a_fault_then_the_card_reads(
    sim: IdCardSimulator, reader: SamvReader, events: Events
) -> None:
    watcher = CardWatcher(reader, events)
    sim.insert("resident")
    sim.fault("remove_mid_read")
    watcher.poll_once()
    (fault,) = events.drained()
    assert isinstance(fault, ReaderFault) and "移开" in fault.message
    sim.insert("resident")
    watcher.poll_once()
    assert [type(e) for e in events.drained()] == [CardPresented]


def test_reader_faults_are_reported_once_until_it_recovers(sim: IdCardSimulator, events: Events) -> None:
    reader = SamvReader(sim.port, timeout_s=0.1)
    try:
        watcher = CardWatcher(reader, events)
        sim.fault("sam_failure")
        for _ in range(3):
            watcher.poll_once()
        (fault,) = events.drained()
        assert isinstance(fault, ReaderFault) and fault.kind == "SamError"
        sim.clear_faults()
        watcher.poll_once()
        sim.fault("sam_failure")
        watcher.poll_once()
        assert [type(e) for e in events.drained()] == [ReaderFault]  # a new episode is reported again
    finally:
        reader.close()


def test_a_handler_that_raises_does_not_stop_the_watcher(sim: IdCardSimulator, reader: SamvReader) -> None:
    seen: list[CardEvent] = []

    def handler(event: CardEvent) -> None:
        seen.append(event)
        raise RuntimeError("bug in the kiosk")

    watcher = CardWatcher(reader, handler)
    sim.insert("resident")
    watcher.poll_once()
    sim.remove()
    watcher.poll_once()
    assert [type(e) for e in seen] == [CardPresented, CardRemoved]


def test_the_watcher_thread(sim: IdCardSimulator, reader: SamvReader, events: Events) -> None:
    with CardWatcher(reader, events, interval_s=0.02):
        sim.insert("hk-permit")
        presented = events.next()
        assert isinstance(presented, CardPresented) and presented.card.pass_number == "H00000001"
        sim.remove()
        assert events.next() == CardRemoved()
        sim.insert("foreigner")
        assert isinstance(events.next(), CardPresented)
    assert events.drained() == []  # no duplicates while the foreigner card stayed
