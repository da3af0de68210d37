"""Capture: every commit that finishes a visit, opens or moves a case, rates a visit, opens or moves a
rectification or a complaint writes the matching city records into the outbox — in the same transaction,
so the city hears of exactly what the hall committed. No service knows about it: session events do it.

`after_flush` notes the rows of interest; `before_commit` (outermost transaction only) flushes, turns them
into records (their final state) and appends them under the gapless sequence; a rollback forgets them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event, inspect
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from hallcore.identity import identity_hash
from hallcore.sync import _Record as Record
from hallserver.models import (
    CaseEvent,
    Complaint,
    Evaluation,
    Person,
    Rectification,
    ServiceCase,
    Ticket,
    Visit,
)
from hallserver.services.context import HallContext
from hallserver.services.keyring import KeyringError
from hallserver.sync import outbox, records

log = logging.getLogger("hallq.sync")

_TOUCHED = "hallq_sync_touched"
_WROTE = "hallq_sync_wrote"
# Columns whose change is news for the city; a new row always is.
_WATCHED: dict[type, tuple[str, ...]] = {
    Rectification: ("state", "closed_at", "deadline"),
    Complaint: ("state", "in_remit", "department", "closed_at", "due_date"),
}
_NEW_ONLY = (Visit, CaseEvent, Evaluation)


@dataclass
class Capture:
    """What capture needs for one engine: the hall and the city's identity key (None: no person hashes)."""

    ctx: HallContext
    city_key: bytes | None
    wake: threading.Event = field(default_factory=threading.Event)  # set after a commit wrote records


_CAPTURES: WeakKeyDictionary[Engine, Capture] = WeakKeyDictionary()


def install(engine: Engine, ctx: HallContext, city_key: bytes | None) -> Capture:
    """Capture the city records of every session on this engine from now on."""
    capture = Capture(ctx, city_key)
    _CAPTURES[engine] = capture
    return capture


def uninstall(engine: Engine) -> None:
    """Stop capturing on this engine."""
    _CAPTURES.pop(engine, None)


def _capture_of(session: OrmSession) -> Capture | None:
    if not _CAPTURES:
        return None
    try:
        bind = session.get_bind()
    except Exception:  # an unbound session: nothing of ours
        return None
    engine = bind if isinstance(bind, Engine) else getattr(bind, "engine", None)
    return _CAPTURES.get(engine) if engine is not None else None


@event.listens_for(OrmSession, "after_flush")
def _track(session: OrmSession, _context: Any) -> None:
    if _capture_of(session) is None:
        return
    touched: list[Any] = session.info.setdefault(_TOUCHED, [])
    for obj in session.new:
        if isinstance(obj, (*_NEW_ONLY, *_WATCHED)):
            touched.append(obj)
    for obj in session.dirty:
        columns = _WATCHED.get(type(obj))
        if columns and any(inspect(obj).attrs[c].history.has_changes() for c in columns):
            touched.append(obj)


@event.listens_for(OrmSession, "before_commit")
def _write(session: OrmSession) -> None:
    capture = _capture_of(session)
    if capture is None or session.in_nested_transaction():
        return
    session.flush()  # what commit would flush anyway: final state of everything, ids assigned
    touched = session.info.pop(_TOUCHED, [])
    if not touched:
        return
    made = list(_records(session, capture, touched))  # type: ignore[arg-type]
    if made:
        # Person rows that got their city hash go first: the counter row must be the last lock this
        # transaction takes (and is held only until the commit), or two writers could deadlock on it.
        session.flush()
        outbox.append(session, made, capture.ctx.now())  # type: ignore[arg-type]
        session.info[_WROTE] = True


@event.listens_for(OrmSession, "after_commit")
def _wake(session: OrmSession) -> None:
    if session.info.pop(_WROTE, False):
        capture = _capture_of(session)
        if capture is not None:
            capture.wake.set()


@event.listens_for(OrmSession, "after_soft_rollback")
def _forget(session: OrmSession, previous: Any) -> None:
    if previous.parent is None:  # the whole transaction: nothing of it happened
        session.info.pop(_TOUCHED, None)
        session.info.pop(_WROTE, None)


def _records(session: Session, capture: Capture, touched: Iterable[Any]) -> Iterable[Record]:
    """One record per new visit, case event and evaluation; one per rectification or complaint changed."""
    seen: set[tuple[type, Any]] = set()
    for obj in touched:
        state = inspect(obj)
        if not state.persistent:  # rolled back with a savepoint, or deleted
            continue
        key = (type(obj), state.identity)
        if key in seen:
            continue
        seen.add(key)
        try:
            record = _record(session, capture, obj)
        except Exception:  # a record that cannot be built must not undo the hall's work
            log.exception("city record for %s %s could not be built", type(obj).__name__, state.identity)
            continue
        if record is not None:
            yield record


def _record(session: Session, capture: Capture, obj: Any) -> Record | None:
    ctx = capture.ctx
    if isinstance(obj, Visit):
        ticket = session.get(Ticket, obj.ticket_id)
        person = _person(session, obj.person_id, ticket.identity_hash if ticket else None)
        channel, priority = (ticket.channel, ticket.priority) if ticket else ("unknown", "normal")
        return records.visit_record(obj, _city_hash(session, capture, person), channel, priority)
    if isinstance(obj, CaseEvent):
        case = session.get(ServiceCase, obj.serial_no)
        if case is None:
            return None
        visit = session.get(Visit, case.visit_id)
        person = _person(session, case.person_id, None)
        department = visit.department if visit else None
        name = ctx.entry_name(case.item_code)
        return records.case_record(case, obj, name, department, _city_hash(session, capture, person))
    if isinstance(obj, Evaluation):
        visit = session.get(Visit, obj.visit_id)
        return records.evaluation_record(obj, visit) if visit else None
    if isinstance(obj, Rectification):
        return records.rectification_record(obj, ctx.calendar.zone)
    if isinstance(obj, Complaint):
        return records.complaint_record(obj)
    return None


def _person(session: Session, person_id: int | None, hall_hash: str | None) -> Person | None:
    if person_id is not None:
        return session.get(Person, person_id)
    if hall_hash is not None:
        return session.exec(select(Person).where(Person.id_hash == hall_hash)).first()
    return None


def _city_hash(session: Session, capture: Capture, person: Person | None) -> str | None:
    """The person's hash under the city's identity key, computed once (from the sealed ID) and kept."""
    if person is None or capture.city_key is None:
        return None
    if person.city_hash is None:
        try:
            number = capture.ctx.keyring.decrypt(person.key_id, person.id_cipher, aad=person.id_hash)
        except KeyringError:
            log.warning("person %s: sealed ID unreadable, city record carries no identity hash", person.id)
            return None
        person.city_hash = identity_hash(capture.city_key, number)
        session.add(person)
    return person.city_hash
