"""What fills the outbox. Scans (run by the sender loop; each message keyed so a rescan queues nothing new):
near one's turn, appointment reminders (the day before and the hour before), rating invitations after a
visit. And the functions the case life calls: `deadline_reminder` (补正/容缺) and `case_update`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlmodel import Session, col, select

from hallcore.commands import Outcome
from hallserver.models import Booking, BookingState, Contact, Person, ServiceCase, Subscription, Ticket, Visit
from hallserver.models.queue import TicketState
from hallserver.services import tickets
from hallserver.services.context import HallContext
from hallserver.services.notify.outbox import enqueue


@dataclass(frozen=True)
class TriggerRules:
    """When messages go out."""

    near_turn: int = 3  # 前面还有N位
    rating_after_min: int = 10  # the window's evaluator has the first chance
    rating_within_h: int = 2
    deadline_days_before: int = 2  # 补正/容缺 reminders this many days before the deadline


def _zone_day_start(ctx: HallContext) -> datetime:
    return datetime.combine(ctx.today(), time(0), tzinfo=ctx.calendar.zone)


def near_turn(session: Session, ctx: HallContext, rules: TriggerRules) -> int:
    """Subscribed waiting tickets of today with at most N people ahead."""
    subjects = session.exec(
        select(Subscription.subject).where(
            col(Subscription.subject).startswith("ticket:"), col(Subscription.created_at) >= _zone_day_start(ctx)
        )
    ).all()
    ids = {int(s.split(":", 1)[1]) for s in subjects}
    if not ids:
        return 0
    queued = 0
    waiting = session.exec(
        select(Ticket).where(
            col(Ticket.id).in_(ids), Ticket.service_date == ctx.today(), Ticket.state == TicketState.waiting
        )
    ).all()
    for t in waiting:
        ahead = tickets.waiting_ahead(session, t)
        if not 1 <= ahead <= rules.near_turn:  # with nobody ahead the call itself is the message
            continue
        group = ctx.profile.group(t.group_code).name if t.group_code else ""
        queued += len(
            enqueue(
                session, ctx, key=f"near_turn:ticket:{t.id}", template="near_turn",
                params={"ticket": t.number, "ahead": ahead, "group": group}, subjects=[f"ticket:{t.id}"],
                expires_at=ctx.now() + timedelta(minutes=30),
            )
        )  # fmt: skip
    return queued


def appointments(session: Session, ctx: HallContext) -> int:
    """Bookings of the next day: a reminder the day before (more than 2 h ahead) and one in the last hour."""
    now = ctx.now()
    due = session.exec(
        select(Booking).where(
            Booking.state == BookingState.booked, col(Booking.slot_start) > now,
            col(Booking.slot_start) <= now + timedelta(hours=24),
        )
    ).all()  # fmt: skip
    if not due:
        return 0
    people = _people_with_contacts(session, {b.identity_hash for b in due})
    subscribed = _subscribed(session, [f"booking:{b.id}" for b in due])
    queued = 0
    zone = ctx.calendar.zone
    for b in due:
        if b.identity_hash not in people and f"booking:{b.id}" not in subscribed:
            continue
        start = b.slot_start.astimezone(zone)
        params = {
            "date": start.strftime("%m月%d日"),
            "time": start.strftime("%H:%M"),
            "item": ctx.entry_name(b.item_code),
        }
        lead = b.slot_start - now
        if lead > timedelta(hours=2):
            key, template, expires = f"appt_day:booking:{b.id}", "appointment_day", b.slot_start - timedelta(hours=1)
        elif lead <= timedelta(hours=1):
            key, template, expires = f"appt_hour:booking:{b.id}", "appointment_hour", b.slot_start
        else:
            continue
        queued += len(
            enqueue(
                session, ctx, key=key, template=template, params=params, subjects=[f"booking:{b.id}"],
                person_hash=b.identity_hash, expires_at=expires,
            )
        )  # fmt: skip
    return queued


def ratings(session: Session, ctx: HallContext, rules: TriggerRules) -> int:
    """Visits that ended a while ago, still unrated: an invitation to rate by replying a digit."""
    now = ctx.now()
    visits = session.exec(
        select(Visit).where(
            col(Visit.ended_at) > now - timedelta(hours=rules.rating_within_h),
            col(Visit.ended_at) <= now - timedelta(minutes=rules.rating_after_min),
            col(Visit.rating_gb).is_(None),
            Visit.outcome != Outcome.transferred,
        )
    ).all()
    return _for_visits(session, ctx, visits, "rating", "rating_invite", timedelta(days=1))


def deadlines(session: Session, ctx: HallContext, rules: TriggerRules) -> int:
    """补正 and 容缺 visits whose deadline is near: one reminder each."""
    today = ctx.today()
    soon = [today + timedelta(days=d) for d in range(rules.deadline_days_before + 1)]
    visits = session.exec(
        select(Visit).where(
            col(Visit.ended_at) > ctx.now() - timedelta(days=90),
            col(Visit.outcome).in_((Outcome.supplement, Outcome.rongque)),
            col(Visit.deadline).in_(soon),
        )
    ).all()
    return sum(_deadline(session, ctx, v) for v in visits)


def _deadline(session: Session, ctx: HallContext, visit: Visit) -> int:
    kind = "supplement" if visit.outcome == Outcome.supplement else "rongque"
    return deadline_reminder(session, ctx, visit, kind)


def deadline_reminder(session: Session, ctx: HallContext, visit: Visit, kind: str) -> int:
    """Remind the citizen of a visit of its 补正 (`supplement`) or 容缺 (`rongque`) deadline; once per
    visit and deadline. Returns how many messages were queued."""
    assert visit.deadline is not None
    params = {
        "item": ctx.entry_name(visit.item_code) if visit.item_code else "所办事项",
        "deadline": visit.deadline.strftime("%Y年%m月%d日"),
        "serial": visit.serial_no or "",
    }
    expires = datetime.combine(visit.deadline + timedelta(days=1), time(0), tzinfo=ctx.calendar.zone)
    return len(
        enqueue(
            session, ctx, key=f"{kind}_deadline:visit:{visit.id}:{visit.deadline.isoformat()}",
            template=f"{kind}_deadline", params=params, subjects=_visit_subjects(visit),
            person_hash=_person_hash(session, visit.person_id), expires_at=expires,
        )
    )  # fmt: skip


def case_update(session: Session, ctx: HallContext, serial_no: str, *, place: str | None = None) -> int:
    """Tell the citizen where their case now stands (called by the case life when its status changes):
    待领取 asks them to collect it, every other status is a progress message. Once per status."""
    case = session.get(ServiceCase, serial_no)
    if case is None:
        return 0
    item = ctx.entry_name(case.item_code)
    if case.status == "待领取":
        template = "ready_to_collect"
        params = {"item": item, "serial": serial_no, "place": place or f"{ctx.profile.hall.name}窗口"}
    else:
        template, params = "case_result", {"item": item, "serial": serial_no, "status": case.status}
    return len(
        enqueue(
            session, ctx, key=f"case:{serial_no}:{case.status}", template=template, params=params,
            subjects=[f"case:{serial_no}", f"visit:{case.visit_id}"], person_hash=_person_hash(session, case.person_id),
        )
    )  # fmt: skip


def _for_visits(
    session: Session, ctx: HallContext, visits: Sequence[Visit], prefix: str, template: str, ttl: timedelta
) -> int:
    """Queue `template` for the visits someone subscribed to (or whose person left a number)."""
    if not visits:
        return 0
    subjects = _subscribed(session, [s for v in visits for s in _visit_subjects(v)])
    persons = {v.person_id for v in visits if v.person_id}
    hashes = (
        dict(session.exec(select(Person.id, Person.id_hash).where(col(Person.id).in_(persons))).all())
        if persons
        else {}
    )
    with_contacts = _people_with_contacts(session, set(hashes.values()))
    out = 0
    for v in visits:
        person = hashes.get(v.person_id) if v.person_id else None
        if not (set(_visit_subjects(v)) & subjects or person in with_contacts):
            continue
        params = {
            "item": ctx.entry_name(v.item_code) if v.item_code else "所办事项",
            "ticket": v.ticket_number,
            "visit_id": v.id,
        }
        out += len(
            enqueue(
                session, ctx, key=f"{prefix}:visit:{v.id}", template=template, params=params,
                subjects=_visit_subjects(v), person_hash=person, expires_at=ctx.now() + ttl,
            )
        )  # fmt: skip
    return out


def _visit_subjects(v: Visit) -> list[str]:
    out = [f"visit:{v.id}", f"ticket:{v.ticket_id}"]
    if v.serial_no:
        out.append(f"case:{v.serial_no}")
    return out


def _subscribed(session: Session, subjects: list[str]) -> set[str]:
    if not subjects:
        return set()
    return set(session.exec(select(Subscription.subject).where(col(Subscription.subject).in_(subjects))).all())


def _people_with_contacts(session: Session, hashes: set[str]) -> set[str]:
    if not hashes:
        return set()
    rows = session.exec(select(Contact.identity_hash).where(col(Contact.identity_hash).in_(hashes))).all()
    return {h for h in rows if h}


def _person_hash(session: Session, person_id: int | None) -> str | None:
    if person_id is None:
        return None
    person = session.get(Person, person_id)
    return person.id_hash if person else None


def run_all(session: Session, ctx: HallContext, rules: TriggerRules, slow: bool) -> int:
    """Every scan; the slow ones (appointments, ratings) only when asked. 补正/容缺 deadlines are the case
    life's (services/case_deadlines.py decides when, in working days) and come through deadline_reminder;
    `deadlines` below is the same rule for a hall without it (calendar days), not run here."""
    queued = near_turn(session, ctx, rules)
    if slow:
        queued += appointments(session, ctx) + ratings(session, ctx, rules)
    return queued
