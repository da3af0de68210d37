"""The no-show sweep: bookings not checked in become no-shows, and repeaters lose booking for a while."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from hallcore.identity import identity_hash
from hallserver.models import Booking, BookingState, BookingSuspension
from hallserver.services.context import HallContext


@dataclass(frozen=True)
class SweepResult:
    """What one no-show sweep did."""

    no_shows: int
    suspended: int


def sweep_no_shows(session: Session, ctx: HallContext) -> SweepResult:
    """Bookings not checked in by slot start + late minutes become no-shows; repeaters are suspended.

    Idempotent: a second run at the same instant changes nothing.
    """
    now = ctx.now()
    cutoff = now - timedelta(minutes=ctx.profile.tickets.appointment_late_minutes)
    due = session.exec(
        select(Booking).where(Booking.state == BookingState.booked, col(Booking.slot_start) < cutoff).with_for_update()
    ).all()
    for booking in due:
        booking.state = BookingState.no_show
        booking.no_show_at = now
        session.add(booking)
    session.flush()
    people = sorted({b.identity_hash for b in due})
    suspended = sum(1 for id_hash in people if _maybe_suspend(session, ctx, id_hash, now))
    return SweepResult(len(due), suspended)


def _maybe_suspend(session: Session, ctx: HallContext, id_hash: str, now: datetime) -> bool:
    """Suspend booking when the no-shows since the last suspension, within the window, reach the limit."""
    rules = ctx.profile.appointments
    last = session.exec(
        select(BookingSuspension)
        .where(BookingSuspension.identity_hash == id_hash)
        .order_by(col(BookingSuspension.until).desc())
    ).first()
    if last is not None and last.until > now:
        return False
    since = now - timedelta(days=rules.no_show_window_days)
    if last is not None and last.since > since:
        since = last.since  # no-shows already punished do not count twice
    count = session.exec(
        select(func.count())
        .select_from(Booking)
        .where(
            Booking.identity_hash == id_hash,
            Booking.state == BookingState.no_show,
            col(Booking.slot_start) >= since,
        )
    ).one()
    if count < rules.no_show_limit:
        return False
    # Whole days: booking reopens at local midnight after the last suspended day.
    reopen = now.date() + timedelta(days=rules.suspension_days + 1)
    session.add(
        BookingSuspension(
            identity_hash=id_hash,
            since=now,
            until=datetime.combine(reopen, time(0), ctx.calendar.zone),
            reason=f"{rules.no_show_window_days}天内预约未到{count}次",
        )
    )
    session.flush()
    return True


def suspension_of(session: Session, ctx: HallContext, id_number: str) -> BookingSuspension | None:
    """The person's suspension in force now, if any."""
    return session.exec(
        select(BookingSuspension)
        .where(
            BookingSuspension.identity_hash == identity_hash(ctx.identity_key, id_number),
            col(BookingSuspension.until) > ctx.now(),
        )
        .order_by(col(BookingSuspension.until).desc())
    ).first()
