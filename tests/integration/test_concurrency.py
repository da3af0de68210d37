"""Concurrent kiosks and windows on SQLite and PostgreSQL: no shared numbers, no double calls."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from hallserver.models import Ticket, TicketEvent, WindowStatus
from hallserver.services import tickets, windows
from hallserver.services.context import HallContext
from tests.integration.helpers import id_number, issue, tx

T = TypeVar("T")
KIOSKS = 8
PER_KIOSK = 12


def run_together(workers: int, job: Callable[[int], T]) -> list[T]:
    """Start `workers` threads at the same instant; return every result, re-raise any error."""
    barrier = threading.Barrier(workers)
    results: list[T] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        barrier.wait()
        try:
            out = job(index)
            with lock:
                results.append(out)
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    if errors:
        raise errors[0]
    return results


def test_simultaneous_kiosks_never_share_a_number(engine: Engine, ctx: HallContext) -> None:
    def kiosk(k: int) -> list[str]:
        return [issue(engine, ctx, group="police", id_number=id_number(k * 100 + n)).number for n in range(PER_KIOSK)]

    numbers = [n for batch in run_together(KIOSKS, kiosk) for n in batch]
    expected = [f"A{i:03d}" for i in range(1, KIOSKS * PER_KIOSK + 1)]
    assert sorted(numbers) == expected  # unique and gap-free


def test_same_person_at_two_kiosks_gets_one_ticket(engine: Engine, ctx: HallContext) -> None:
    person = id_number(4242)

    def kiosk(_: int) -> str:
        try:
            return issue(engine, ctx, group="police", id_number=person).number
        except tickets.HallError as exc:
            return exc.code

    # The series counter row serializes issuers; refused attempts roll their number back.
    assert sorted(run_together(4, kiosk)) == ["A001", "already_waiting", "already_waiting", "already_waiting"]
    assert issue(engine, ctx, group="police", id_number=id_number(1)).number == "A002"


def test_windows_calling_at_once_never_call_the_same_ticket(engine: Engine, ctx: HallContext) -> None:
    police_windows = ["w01", "w02", "w03", "w04", "w05", "w06", "w19", "w20"]
    for window in ("w19", "w20"):  # keep the test about one group
        tx(engine, lambda s, w=window: windows.set_groups(s, ctx, w, ["police"]))
    for n in range(len(police_windows) * 3):
        issue(engine, ctx, group="police", id_number=id_number(n))

    def caller(index: int) -> list[str]:
        window = police_windows[index]
        called = []
        for _ in range(3):
            ticket = tx(engine, lambda s: windows.call_next(s, ctx, window))
            assert ticket is not None
            called.append(ticket.number)
            tx(engine, lambda s: windows.no_show(s, ctx, window))
        return called

    called = [n for batch in run_together(len(police_windows), caller) for n in batch]
    assert len(called) == len(set(called)) == len(police_windows) * 3
    calls = tx(engine, lambda s: s.exec(select(TicketEvent).where(TicketEvent.action == "call")).all())
    assert len(calls) == len(called)  # one call event per ticket: no ticket was claimed twice


def test_double_click_on_call_next_calls_one_ticket(engine: Engine, ctx: HallContext) -> None:
    for n in range(4):
        issue(engine, ctx, group="police", id_number=id_number(n))

    def click(_: int) -> str:
        try:
            ticket = tx(engine, lambda s: windows.call_next(s, ctx, "w05"))
            return ticket.number if ticket else "none"
        except windows.HallError as exc:
            return exc.code

    outcomes = run_together(3, click)
    assert sorted(outcomes) == ["A001", "window_busy", "window_busy"]
    assert tx(engine, lambda s: windows.view(s, ctx, "w05")).status == WindowStatus.open


def test_database_refuses_a_duplicate_number(engine: Engine, ctx: HallContext) -> None:
    first = issue(engine, ctx)

    def duplicate(s: object) -> None:
        clone = Ticket(**first.model_dump(exclude={"id"}))
        s.add(clone)  # type: ignore[attr-defined]
        s.flush()  # type: ignore[attr-defined]

    with pytest.raises(IntegrityError):
        tx(engine, duplicate)
