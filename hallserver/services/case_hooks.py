"""The hook where case life tells the citizen: a deadline near or passed, a promised date near, a result ready.

Called inside the transaction that made the change, so the notification service (services/notify) writes
its outbox rows in the same commit: nothing is sent for a change that rolled back. Other listeners register
with `register()`. Notices carry references (serial number, visit, person row),
never personal data."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from hallserver.models import ServiceCase, Visit
from hallserver.services.context import HallContext
from hallserver.services.notify import triggers

log = logging.getLogger("hallq.cases")


@dataclass(frozen=True)
class CaseNotice:
    """Something the applicant should hear about. `kind`: deadline_near | deadline_passed | promise_near |
    result_ready. A 补正 notice has no case: `serial_no` is None and `visit_id` names the visit."""

    kind: str
    person_id: int | None
    item_code: str | None
    serial_no: str | None = None
    visit_id: int | None = None
    status: str | None = None
    due: date | None = None
    outcome: str | None = None  # what a passed deadline led to (视为撤回 / 不予批准 / 中止办理)


Listener = Callable[[Session, HallContext, CaseNotice], None]
_listeners: list[Listener] = []


def register(listener: Listener) -> Callable[[], None]:
    """Add a listener (e.g. the notification service's enqueue); returns a function that removes it."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


def to_outbox(session: Session, ctx: HallContext, notice: CaseNotice) -> None:
    """The notification service's outbox (services/notify): 补正/容缺 reminders, and the case's new status
    (a result, 待领取, or what a passed deadline led to). Its keys make a repeat queue nothing new."""
    if notice.kind == "deadline_near" and notice.visit_id is not None:
        visit = session.get(Visit, notice.visit_id)
        if visit is not None and visit.deadline is not None:
            triggers.deadline_reminder(session, ctx, visit, "rongque" if notice.serial_no else "supplement")
    elif notice.kind in ("result_ready", "deadline_passed") and notice.serial_no:
        triggers.case_update(session, ctx, notice.serial_no)


def emit(session: Session, ctx: HallContext, notice: CaseNotice) -> None:
    """Hand a notice to the outbox and every listener, each in a savepoint: a failing one is logged and
    rolled back alone, never undoing the case change."""
    log.debug("case notice %s %s", notice.kind, notice.serial_no or f"visit {notice.visit_id}")
    outbox = notice.kind == "deadline_near" or (notice.kind in ("result_ready", "deadline_passed") and notice.serial_no)
    for listener in ((to_outbox,) if outbox else ()) + tuple(_listeners):
        try:
            with session.begin_nested():
                listener(session, ctx, notice)
        except Exception:  # a notification problem must not lose the case's own change
            log.exception("case notice listener failed (%s)", notice.kind)


def result_ready(session: Session, ctx: HallContext, case: ServiceCase) -> None:
    """A decision or result the applicant can act on (办结, 告知承诺准予, 不予批准, 待领取)."""
    emit(session, ctx, CaseNotice("result_ready", case.person_id, case.item_code, case.serial_no, status=case.status))


def case_deadline(session: Session, ctx: HallContext, kind: str, case: ServiceCase, outcome: str | None = None) -> None:
    """A 容缺 deadline near (`deadline_near`) or passed (`deadline_passed`, with what it led to)."""
    emit(
        session,
        ctx,
        CaseNotice(
            kind,
            case.person_id,
            case.item_code,
            case.serial_no,
            visit_id=case.visit_id,
            status=case.status,
            due=case.supplement_due,
            outcome=outcome,
        ),
    )


def notice_deadline(session: Session, ctx: HallContext, kind: str, visit: Visit, outcome: str | None = None) -> None:
    """A 补正 notice's deadline near or passed."""
    emit(
        session,
        ctx,
        CaseNotice(kind, visit.person_id, visit.item_code, visit_id=visit.id, due=visit.deadline, outcome=outcome),
    )


def promise_near(session: Session, ctx: HallContext, case: ServiceCase) -> None:
    """The promised date is near and the case is still open (early warning, 000 §55)."""
    emit(
        session,
        ctx,
        CaseNotice(
            "promise_near", case.person_id, case.item_code, case.serial_no, status=case.status, due=case.promised_date
        ),
    )
