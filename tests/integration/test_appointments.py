"""Appointments on SQLite and PostgreSQL: slots from the calendar, booking, capacity under concurrency,
check-in window and late rules, no-show sweep and suspension."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import SQLModel, select

from hallcore.clock import ManualClock
from hallcore.errors import HallError
from hallserver.models import AppointmentSlot, Booking, BookingSuspension, Ticket
from hallserver.services import appointments as service
from hallserver.services.context import HallContext
from tests.conftest import local
from tests.integration.helpers import id_number, item_in, tx

PERSON = id_number(1)


@pytest.fixture
def db(engine: Engine) -> Engine:
    """The test database with the appointment tables added."""
    SQLModel.metadata.create_all(engine)
    return engine


@pytest.fixture
def item(ctx: HallContext) -> str:
    """A bookable police item (居住登记, 7 days ahead)."""
    code = item_in(ctx, "residence")
    assert ctx.catalog.items[code].appointment.supported
    return code


def book(engine: Engine, ctx: HallContext, item: str, start: datetime, seed: int = 1, **kw: Any) -> Booking:
    return tx(engine, lambda s: service.book(s, ctx, item, start, id_number(seed), kw.get("name", "张小三")))


def check_in(engine: Engine, ctx: HallContext, **kw: Any) -> service.CheckIn:
    return tx(engine, lambda s: service.check_in(s, ctx, **kw))


def refused(fn: Callable[[], object], code: str) -> HallError:
    with pytest.raises(HallError) as err:
        fn()
    assert err.value.code == code, err.value.message
    return err.value


def slots(engine: Engine, ctx: HallContext, item: str, day: date) -> list[service.SlotView]:
    return tx(engine, lambda s: service.slots_for(s, ctx, item, day))


def with_rules(ctx: HallContext, **rules: Any) -> HallContext:
    profile = ctx.profile.model_copy(update={"appointments": ctx.profile.appointments.model_copy(update=rules)})
    return dataclasses.replace(ctx, profile=profile)


# --- slots ---


def test_weekday_slots_follow_hours_widened_by_flex(db: Engine, ctx: HallContext, item: str) -> None:
    tomorrow = slots(db, ctx, item, date(2026, 11, 24))
    # 09:00–18:00 widened by 60 minutes each side (早晚弹性办), in 30-minute slots.
    assert len(tomorrow) == 22
    assert (tomorrow[0].start, tomorrow[0].end) == (local(2026, 11, 24, 8, 0), local(2026, 11, 24, 8, 30))
    assert tomorrow[-1].end == local(2026, 11, 24, 19, 0)
    assert {(v.capacity, v.booked, v.free) for v in tomorrow} == {(4, 0, 4)}
    today = slots(db, ctx, item, date(2026, 11, 23))  # 09:00 now: slots already begun are gone
    assert today[0].start == local(2026, 11, 23, 9, 30) and len(today) == 19


def test_weekend_and_holidays(db: Engine, ctx: HallContext, clock: ManualClock, item: str) -> None:
    saturday = slots(db, ctx, item, date(2026, 11, 28))
    assert (saturday[0].start, saturday[-1].end) == (local(2026, 11, 28, 8), local(2026, 11, 28, 13))
    assert slots(db, ctx, item, date(2026, 11, 29)) == []  # Sunday
    clock.set(local(2026, 9, 28, 9, 0))
    assert slots(db, ctx, item, date(2026, 10, 1)) == []  # 国庆节
    assert len(slots(db, ctx, item, date(2026, 9, 30))) == 22
    clock.set(local(2026, 2, 9, 9, 0))
    adjusted = slots(db, ctx, item, date(2026, 2, 14))  # Saturday, 春节调休上班: weekday hours
    assert len(adjusted) == 22 and adjusted[-1].end == local(2026, 2, 14, 19, 0)
    assert slots(db, ctx, item, date(2026, 2, 15)) == []  # 春节
    err = refused(lambda: book(db, ctx, item, local(2026, 2, 15, 10)), "no_such_slot")
    assert "法定节假日" in err.message


def test_booking_window_and_bookable_items(db: Engine, ctx: HallContext, item: str) -> None:
    assert slots(db, ctx, item, date(2026, 11, 30))  # today + 7
    assert slots(db, ctx, item, date(2026, 12, 1)) == []
    assert slots(db, ctx, item, date(2026, 11, 22)) == []
    passport = item_in(ctx, "exit_entry")
    assert ctx.catalog.items[passport].appointment.days_ahead == 14
    assert slots(db, ctx, passport, date(2026, 12, 1)) == []  # capped by the hall's 7 days
    refused(lambda: slots(db, ctx, "NOSUCH", date(2026, 11, 24)), "unknown_item")
    unsupported = next(c for c, i in ctx.catalog.items.items() if not i.appointment.supported)
    err = refused(lambda: slots(db, ctx, unsupported, date(2026, 11, 24)), "not_bookable")
    assert "不支持预约" in err.message
    err = refused(lambda: book(db, ctx, item, local(2026, 12, 1, 10)), "outside_window")
    assert "2026年11月30日" in err.message
    refused(lambda: book(db, ctx, item, local(2026, 11, 24, 10, 10)), "no_such_slot")
    refused(lambda: book(db, ctx, item, local(2026, 11, 23, 9, 0)), "slot_past")
    refused(lambda: book(db, ctx, item, datetime(2026, 11, 24, 10, 0)), "invalid")  # naive


# --- booking and cancelling ---


def test_book_gives_a_code_and_keeps_no_id_number(db: Engine, ctx: HallContext, item: str) -> None:
    booking = book(db, ctx, item, local(2026, 11, 24, 10, 0), name="张小三")
    assert len(booking.code) == 8 and set(booking.code) <= set(service.CODE_ALPHABET)
    assert not set(booking.code) & set("01OIL")
    assert booking.masked_name == "张*三" and booking.state == "booked"
    assert PERSON not in booking.identity_hash
    free = {v.start: v.free for v in slots(db, ctx, item, date(2026, 11, 24))}
    assert free[local(2026, 11, 24, 10, 0)] == 3 and free[local(2026, 11, 24, 10, 30)] == 4
    with db.connect() as conn:
        rows = conn.execute(text("SELECT * FROM booking")).all()
    assert PERSON not in str(rows) and "张小三" not in str(rows)
    # Looked up with spaces and lower case, as typed on a kiosk.
    typed = f"{booking.code[:4].lower()} {booking.code[4:]}"
    assert tx(db, lambda s: service.get_booking(s, typed)).id == booking.id


def test_one_booking_per_person_item_and_day(db: Engine, ctx: HallContext, item: str) -> None:
    book(db, ctx, item, local(2026, 11, 24, 10, 0))
    err = refused(lambda: book(db, ctx, item, local(2026, 11, 24, 15, 0)), "already_booked")
    assert "2026年11月24日" in err.message
    book(db, ctx, item, local(2026, 11, 25, 10, 0))  # another day
    book(db, ctx, item_in(ctx, "social_security"), local(2026, 11, 24, 10, 0))  # another item


def test_capacity_and_cancel_frees_a_seat(db: Engine, ctx: HallContext, clock: ManualClock, item: str) -> None:
    start = local(2026, 11, 24, 10, 0)
    codes = [book(db, ctx, item, start, seed=seed).code for seed in range(1, 5)]
    err = refused(lambda: book(db, ctx, item, start, seed=9), "slot_full")
    assert "约满" in err.message
    refused(lambda: tx(db, lambda s: service.cancel(s, ctx, codes[0], id_number(2))), "not_holder")
    cancelled = tx(db, lambda s: service.cancel(s, ctx, codes[0], id_number(1)))
    assert cancelled.state == "cancelled" and cancelled.cancelled_at == clock.now()
    assert {v.start: v.free for v in slots(db, ctx, item, date(2026, 11, 24))}[start] == 1
    refused(lambda: tx(db, lambda s: service.cancel(s, ctx, codes[0], id_number(1))), "booking_not_active")
    book(db, ctx, item, start, seed=9)
    book(db, ctx, item, local(2026, 11, 24, 11, 0), seed=1)  # a cancelled booking holds nothing
    refused(lambda: tx(db, lambda s: service.cancel(s, ctx, "ZZZZ9999", id_number(1))), "not_found")
    clock.set(local(2026, 11, 24, 10, 0))
    refused(lambda: tx(db, lambda s: service.cancel(s, ctx, codes[1], id_number(2))), "cancel_too_late")


def _race(n: int, attempt: Callable[[int], object]) -> tuple[int, list[str]]:
    barrier = threading.Barrier(n)
    errors: list[str] = []
    ok = []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            attempt(i)
        except HallError as exc:
            with lock:
                errors.append(exc.code)
        else:
            with lock:
                ok.append(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(ok), errors


def test_concurrent_bookings_never_exceed_capacity(db: Engine, ctx: HallContext, item: str) -> None:
    start = local(2026, 11, 24, 10, 0)
    book(db, ctx, item, start, seed=1)
    book(db, ctx, item, start, seed=2)
    won, errors = _race(12, lambda i: book(db, ctx, item, start, seed=100 + i))
    assert won == 2 and errors == ["slot_full"] * 10
    slot = tx(db, lambda s: s.exec(select(AppointmentSlot)).one())
    count = tx(db, lambda s: len(s.exec(select(Booking).where(Booking.slot_id == slot.id)).all()))
    assert slot.booked == slot.capacity == count == 4


def test_concurrent_double_booking_by_one_person(db: Engine, ctx: HallContext, item: str) -> None:
    won, errors = _race(6, lambda i: book(db, ctx, item, local(2026, 11, 24, 10 + i, 0), seed=7))
    assert won == 1 and errors == ["already_booked"] * 5
    booked = tx(db, lambda s: sum(row.booked for row in s.exec(select(AppointmentSlot)).all()))
    assert booked == 1  # the losers' seats were given back with their transactions


# --- check-in ---


def test_check_in_early_on_time_and_twice(db: Engine, ctx: HallContext, clock: ManualClock, item: str) -> None:
    booking = book(db, ctx, item, local(2026, 11, 23, 10, 0))
    err = refused(lambda: check_in(db, ctx, code=booking.code, id_number=PERSON), "too_early")
    assert "09:30" in err.message and err.data["checkin_from"] == "2026-11-23T09:30:00+08:00"
    clock.set(local(2026, 11, 23, 9, 30))
    done = check_in(db, ctx, code=booking.code, id_number=PERSON)
    ticket = done.issued.ticket
    assert (ticket.number, ticket.priority, ticket.channel) == ("Y001", "appointment", "appointment")
    assert ticket.appointment_at == local(2026, 11, 23, 10, 0) and ticket.masked_name == "张*三"
    assert not done.walk_in and "Y001" in done.message
    stored = tx(db, lambda s: service.get_booking(s, booking.code))
    assert stored.state == "checked_in" and stored.ticket_id == ticket.id
    assert stored.checked_in_at == clock.now()
    again = refused(lambda: check_in(db, ctx, code=booking.code, id_number=PERSON), "already_checked_in")
    assert again.data["ticket"] == "Y001" and "Y001" in again.message
    refused(lambda: check_in(db, ctx, id_number=PERSON), "already_checked_in")  # by identity too


def test_check_in_by_identity_picks_todays_booking(db: Engine, ctx: HallContext, clock: ManualClock, item: str) -> None:
    book(db, ctx, item, local(2026, 11, 24, 10, 0), seed=3)  # tomorrow: not today's
    book(db, ctx, item_in(ctx, "social_security"), local(2026, 11, 23, 10, 30), seed=3)
    clock.set(local(2026, 11, 23, 10, 45))  # exactly at the late limit: still on time
    done = check_in(db, ctx, id_number=id_number(3), name="李四")
    assert done.issued.ticket.number == "Y001" and done.booking.item_code == item_in(ctx, "social_security")
    refused(lambda: check_in(db, ctx, id_number=id_number(4)), "not_found")


def test_check_in_needs_the_holder(db: Engine, ctx: HallContext, clock: ManualClock, item: str) -> None:
    booking = book(db, ctx, item, local(2026, 11, 23, 9, 30))
    refused(lambda: check_in(db, ctx, code=booking.code), "identity_required")
    refused(lambda: check_in(db, ctx, code=booking.code, id_number=id_number(2)), "not_holder")
    refused(lambda: check_in(db, ctx, code="ABCDEFGH", id_number=PERSON), "not_found")
    future = book(db, ctx, item, local(2026, 11, 25, 9, 30))
    err = refused(lambda: check_in(db, ctx, code=future.code, id_number=PERSON), "too_early")
    assert "2026年11月25日" in err.message
    tx(db, lambda s: service.cancel(s, ctx, booking.code, PERSON))
    refused(lambda: check_in(db, ctx, code=booking.code, id_number=PERSON), "booking_not_active")
    clock.set(local(2026, 11, 26, 9, 30))
    refused(lambda: check_in(db, ctx, code=future.code, id_number=PERSON), "booking_expired")


def test_late_check_in_queues_as_walk_in(db: Engine, ctx: HallContext, clock: ManualClock, item: str) -> None:
    first = book(db, ctx, item, local(2026, 11, 23, 9, 30), seed=1)
    second = book(db, ctx, item, local(2026, 11, 23, 9, 30), seed=2)
    clock.set(local(2026, 11, 23, 9, 46))
    done = check_in(db, ctx, code=first.code, id_number=id_number(1))
    ticket = done.issued.ticket
    assert done.walk_in and (ticket.number, ticket.priority) == ("A001", "normal")
    assert "现场取号" in done.message and done.booking.state == "checked_in"
    # Swept as a no-show first, then arriving the same day: still queued, and the no-show is lifted.
    assert tx(db, lambda s: service.sweep_no_shows(s, ctx)) == service.SweepResult(1, 0)
    late = check_in(db, ctx, code=second.code, id_number=id_number(2))
    assert late.walk_in and late.issued.ticket.number == "A002"
    stored = tx(db, lambda s: service.get_booking(s, second.code))
    assert stored.state == "checked_in" and stored.no_show_at is None


def test_late_check_in_refused_under_refuse_rule(db: Engine, ctx: HallContext, clock: ManualClock, item: str) -> None:
    strict = with_rules(ctx, late_rule="refuse")
    booking = book(db, strict, item, local(2026, 11, 23, 9, 30))
    clock.set(local(2026, 11, 23, 9, 46))
    err = refused(lambda: check_in(db, strict, code=booking.code, id_number=PERSON), "checkin_late")
    assert "重新预约" in err.message and "09:45" in err.message
    assert tx(db, lambda s: s.exec(select(Ticket)).all()) == []
    assert tx(db, lambda s: service.sweep_no_shows(s, strict)) == service.SweepResult(1, 0)


# --- no-shows ---


def test_no_shows_suspend_booking_then_expire(db: Engine, ctx: HallContext, clock: ManualClock, item: str) -> None:
    for day in (24, 25, 26):
        book(db, ctx, item, local(2026, 11, day, 10, 0))
    kept = book(db, ctx, item, local(2026, 11, 24, 10, 0), seed=2)
    clock.set(local(2026, 11, 24, 9, 50))
    check_in(db, ctx, code=kept.code, id_number=id_number(2))

    def sweep() -> service.SweepResult:
        return tx(db, lambda s: service.sweep_no_shows(s, ctx))

    clock.set(local(2026, 11, 24, 10, 15))
    assert sweep() == service.SweepResult(0, 0)  # the check-in window is still open
    clock.set(local(2026, 11, 24, 10, 16))
    assert sweep() == service.SweepResult(1, 0)
    assert sweep() == service.SweepResult(0, 0)  # idempotent
    clock.set(local(2026, 11, 25, 10, 16))
    assert sweep() == service.SweepResult(1, 0)
    clock.set(local(2026, 11, 26, 10, 16))
    assert sweep() == service.SweepResult(1, 1)
    assert sweep() == service.SweepResult(0, 0)
    assert len(tx(db, lambda s: s.exec(select(BookingSuspension)).all())) == 1

    err = refused(lambda: book(db, ctx, item, local(2026, 11, 30, 10, 0)), "booking_suspended")
    assert "2026年12月26日" in err.message and err.data["until"] == "2026-12-27T00:00:00+08:00"
    assert err.http_status == 403
    other = book(db, ctx, item, local(2026, 11, 30, 10, 0), seed=2)  # others are unaffected
    tx(db, lambda s: service.cancel(s, ctx, other.code, id_number(2)))

    clock.set(local(2026, 12, 26, 23, 59))
    refused(lambda: book(db, ctx, item, local(2026, 12, 28, 10, 0)), "booking_suspended")
    clock.set(local(2026, 12, 27, 0, 0))
    booking = book(db, ctx, item, local(2026, 12, 28, 10, 0))
    # The no-shows already punished do not count again: one more no-show does not re-suspend.
    clock.set(local(2026, 12, 28, 10, 16))
    assert sweep() == service.SweepResult(1, 0)
    assert tx(db, lambda s: service.get_booking(s, booking.code)).state == "no_show"


def test_no_shows_outside_the_window_do_not_count(db: Engine, ctx: HallContext, clock: ManualClock, item: str) -> None:
    short = with_rules(ctx, no_show_limit=2, no_show_window_days=7)
    book(db, short, item, local(2026, 11, 24, 10, 0))
    clock.set(local(2026, 11, 24, 11, 0))
    assert tx(db, lambda s: service.sweep_no_shows(s, short)) == service.SweepResult(1, 0)
    clock.set(local(2026, 12, 1, 9, 0))
    book(db, short, item, local(2026, 12, 2, 10, 0))  # 8 days after the first no-show
    book(db, short, item, local(2026, 12, 3, 10, 0))
    clock.set(local(2026, 12, 2, 11, 0))
    assert tx(db, lambda s: service.sweep_no_shows(s, short)) == service.SweepResult(1, 0)
    clock.set(local(2026, 12, 3, 11, 0))
    assert tx(db, lambda s: service.sweep_no_shows(s, short)) == service.SweepResult(1, 1)
    suspension = tx(db, lambda s: service.suspension_of(s, short, PERSON))
    assert suspension is not None and suspension.until == local(2027, 1, 3, 0, 0)  # 30 whole days
    assert tx(db, lambda s: service.suspension_of(s, short, id_number(2))) is None
