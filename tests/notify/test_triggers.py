"""What fills the outbox: near one's turn as the queue moves, appointment reminders the day and the hour
before, 补正 deadlines, and a case's progress (the function the case life calls)."""

from __future__ import annotations

import json

from sqlalchemy import Engine
from sqlmodel import select

from hallcore.clock import ManualClock
from hallcore.commands import Outcome
from hallcore.contacts import ContactConsent
from hallserver.db import session_scope
from hallserver.models import OutboxMessage, ServiceCase, Visit
from hallserver.services import appointments, visits, windows
from hallserver.services.context import HallContext
from hallserver.services.notify import contacts, templates, triggers
from hallserver.services.notify.triggers import TriggerRules
from tests.conftest import local
from tests.integration.helpers import id_number, issue, item_in, tx
from tests.notify.conftest import PHONE, subscribe_ticket

RULES = TriggerRules(near_turn=3)


def _queued(db: Engine) -> list[OutboxMessage]:
    with session_scope(db) as s:
        return list(s.exec(select(OutboxMessage)).all())


def _scan(db: Engine, ctx: HallContext) -> None:
    tx(db, lambda s: triggers.run_all(s, ctx, RULES, slow=True))


def test_near_turn_fires_once_when_the_queue_reaches_three_ahead(ctx: HallContext, db: Engine) -> None:
    for _ in range(5):
        issue(db, ctx, group="consult")
    subscribe_ticket(db, ctx)  # G006, five ahead
    _scan(db, ctx)
    assert _queued(db) == []
    for _ in range(2):  # the window calls two: three ahead now
        tx(db, lambda s: windows.call_next(s, ctx, "w16"))
        tx(db, lambda s: windows.start(s, ctx, "w16"))
        tx(db, lambda s: windows.finish(s, ctx, "w16", Outcome.consulted))
    _scan(db, ctx)
    _scan(db, ctx)
    [message] = _queued(db)
    assert message.template == "near_turn" and json.loads(message.params)["ahead"] == 3
    text = templates.render(message.template, json.loads(message.params), ctx.profile.hall.name)
    assert "您的G006号前面还有3位，请到综合咨询附近留意叫号" in text
    assert PHONE not in message.params


def test_appointment_reminders_the_day_before_and_the_hour_before(
    ctx: HallContext, db: Engine, clock: ManualClock
) -> None:
    person = id_number(21)
    item = item_in(ctx, "residence")
    booking = tx(db, lambda s: appointments.book(s, ctx, item, local(2026, 11, 24, 10, 0), person, "李四"))
    with session_scope(db) as s:
        cmd = ContactConsent.model_validate(
            {"phone": PHONE, "consent": True, "booking_code": booking.code,
             "identity": {"id_number": person, "method": "id_card"}}
        )  # fmt: skip
        contacts.from_kiosk(s, ctx, cmd, "kiosk-01")
    _scan(db, ctx)
    assert _queued(db) == []  # more than a day ahead
    clock.set(local(2026, 11, 23, 10, 30))
    _scan(db, ctx)
    [day] = _queued(db)
    assert day.template == "appointment_day"
    assert json.loads(day.params) == {"date": "11月24日", "time": "10:00", "item": ctx.entry_name(item)}
    clock.set(local(2026, 11, 24, 9, 10))
    _scan(db, ctx)
    _scan(db, ctx)
    assert sorted(m.template for m in _queued(db)) == ["appointment_day", "appointment_hour"]


def test_a_supplement_deadline_is_reminded_and_a_case_update_is_sent(
    ctx: HallContext, db: Engine, clock: ManualClock
) -> None:
    person = id_number(31)
    ticket = issue(db, ctx, group="consult", id_number=person, name="王五")
    ticket_id = ticket.id
    with session_scope(db) as s:  # a real-name ticket: the kiosk sends the identity too
        contacts.from_kiosk(
            s, ctx,
            ContactConsent.model_validate({"phone": PHONE, "consent": True, "ticket": ticket.number,
                                           "identity": {"id_number": person, "method": "id_card"}}),
            "kiosk-01",
        )  # fmt: skip
    item = item_in(ctx, "residence")
    tx(db, lambda s: windows.call_next(s, ctx, "w16"))
    tx(db, lambda s: windows.start(s, ctx, "w16"))
    details = visits.FinishDetails(materials=(ctx.catalog.items[item].materials[0].name,), item_code=item)
    tx(db, lambda s: windows.finish(s, ctx, "w16", Outcome.supplement, details=details))
    with session_scope(db) as s:
        visit = s.exec(select(Visit).where(Visit.ticket_id == ticket_id)).one()
    assert visit.deadline is not None
    # The case life (case_deadlines) decides when; reminding twice queues one message.
    for _ in range(2):
        tx(db, lambda s: triggers.deadline_reminder(s, ctx, s.get(Visit, visit.id), "supplement"))
    [reminder] = _queued(db)
    assert reminder.template == "supplement_deadline"
    assert json.loads(reminder.params)["deadline"] == visit.deadline.strftime("%Y年%m月%d日")
    # The case life calls case_update when a case changes; once per status.
    with session_scope(db) as s:
        assert visit.id is not None
        now = ctx.now()
        case = ServiceCase(serial_no="S-1", item_code=item, visit_id=visit.id, person_id=visit.person_id,
                           accepted_at=now, promised_date=ctx.today(), status="待领取", updated_at=now)  # fmt: skip
        s.add(case)
    assert tx(db, lambda s: triggers.case_update(s, ctx, "S-1", place="1楼领证处")) == 1
    assert tx(db, lambda s: triggers.case_update(s, ctx, "S-1")) == 1  # same row again, nothing new
    ready = [m for m in _queued(db) if m.template == "ready_to_collect"]
    assert len(ready) == 1 and json.loads(ready[0].params)["place"] == "1楼领证处"
