"""SMS end to end: the notifier sends through the real SMPP client (smpplib) to the local SMSC simulator,
which speaks the server side of SMPP 3.4 — bind, submit_sm, delivery receipts, throttling, going down."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from hallcore.clock import ManualClock
from hallcore.commands import Outcome as VisitOutcome
from hallserver.db import session_scope
from hallserver.models import DeliveryLog, Evaluation, OutboxMessage
from hallserver.notify.smpp import SmppAccount, SmppChannel
from hallserver.notify.smsc_sim import SmscSimulator
from hallserver.notify.worker import Notifier
from hallserver.services import windows
from hallserver.services.context import HallContext
from hallserver.services.notify import contacts, outbox
from tests.integration.helpers import issue, tx
from tests.notify.conftest import PHONE, all_text, subscribe_ticket


def _messages(db: Engine) -> list[OutboxMessage]:
    with session_scope(db) as s:
        return list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())  # type: ignore[arg-type]


def _events(db: Engine, outbox_id: int) -> list[str]:
    with session_scope(db) as s:
        return [e.event for e in outbox.log_of(s, outbox_id)]


def _rounds_until(notifier: Notifier, done: Callable[[], bool], rounds: int = 100) -> None:
    """Run rounds until `done` (receipts and replies arrive on the SMPP session between rounds)."""
    for _ in range(rounds):
        notifier.run_once(slow=False)
        if done():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached")


def _near_turn_ticket(db: Engine, ctx: HallContext) -> int:
    """Three consultation tickets, then the citizen's: 前面还有3位."""
    for _ in range(3):
        issue(db, ctx, group="consult")
    return subscribe_ticket(db, ctx)


def test_near_turn_sms_is_submitted_and_its_receipt_logged(
    ctx: HallContext, db: Engine, sim: SmscSimulator, notifier: Notifier, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _near_turn_ticket(db, ctx)
    _rounds_until(notifier, lambda: _messages(db)[0].state == "delivered")
    assert sim.binds == 1 and len(sim.submitted) == 1
    sms = sim.submitted[0]
    assert sms.destination == "86" + PHONE and sms.registered_delivery & 1
    assert sms.text.startswith(f"【{ctx.profile.hall.name}】您的G004号前面还有3位") and sms.text.endswith("回复TD退订")
    [row] = _messages(db)
    assert row.message_id == sms.message_id and row.attempts == 1
    assert _events(db, row.id) == ["queued", "submitted", "receipt"]  # type: ignore[arg-type]
    with session_scope(db) as s:
        receipt = s.exec(select(DeliveryLog).where(DeliveryLog.event == "receipt")).one()
    assert (receipt.detail, receipt.message_id) == ("DELIVRD", sms.message_id)
    for _ in range(3):  # later rounds and rescans send nothing again
        notifier.run_once(slow=True)
    assert len(sim.submitted) == 1 and len(_messages(db)) == 1
    # The number is nowhere in plaintext: not in any column, not in any log line (smpplib's hex dumps included).
    assert PHONE not in all_text(db)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert PHONE not in logged and PHONE.encode().hex() not in logged


def test_a_throttled_submit_is_retried_later_and_sent_once(
    ctx: HallContext, db: Engine, clock: ManualClock, sim: SmscSimulator, notifier: Notifier
) -> None:
    _near_turn_ticket(db, ctx)
    sim.throttle_next = 1
    notifier.run_once(slow=False)
    [row] = _messages(db)
    assert (row.state, row.attempts, row.last_error) == ("queued", 1, "ESME_RTHROTTLED")
    assert sim.throttled == 1 and sim.submitted == []
    notifier.run_once(slow=False)  # backoff: not before 30 s
    assert sim.submitted == [] and sim.throttled == 1
    clock.advance(seconds=31)
    _rounds_until(notifier, lambda: _messages(db)[0].state == "delivered")
    assert len(sim.submitted) == 1
    assert _events(db, row.id) == ["queued", "throttled", "submitted", "receipt"]  # type: ignore[arg-type]


def test_smsc_down_messages_wait_and_go_exactly_once_after_restart(
    ctx: HallContext, db: Engine, clock: ManualClock, sim: SmscSimulator, notifier: Notifier
) -> None:
    notifier.run_once()  # bound before the SMSC goes away
    sim.stop()
    _near_turn_ticket(db, ctx)
    for _ in range(3):
        notifier.run_once(slow=False)
        clock.advance(seconds=16)
    [row] = _messages(db)
    assert (row.state, row.attempts) == ("queued", 0)  # an outage is not the message's fault
    assert set(_events(db, row.id)) == {"queued", "down"}  # type: ignore[arg-type]
    sim.start()  # same port
    _rounds_until(notifier, lambda: _messages(db)[0].state == "delivered")
    for _ in range(3):
        clock.advance(seconds=60)
        notifier.run_once(slow=True)
    assert len(sim.submitted) == 1 and sim.submitted[0].destination == "86" + PHONE


def test_wrong_smsc_password_leaves_messages_queued(ctx: HallContext, db: Engine, sim: SmscSimulator) -> None:
    wrong = Notifier(ctx, db, {"sms": SmppChannel(SmppAccount("127.0.0.1", sim.port, "hallq", "nope"))})
    _near_turn_ticket(db, ctx)
    wrong.run_once(slow=False)
    [row] = _messages(db)
    assert (row.state, row.last_error) == ("queued", "smpp_status_0xe")  # ESME_RINVPASWD
    assert sim.binds == 0 and sim.submitted == []


def test_an_undeliverable_receipt_fails_the_message(
    ctx: HallContext, db: Engine, sim: SmscSimulator, notifier: Notifier
) -> None:
    sim.undeliverable.add("86" + PHONE)
    _near_turn_ticket(db, ctx)
    _rounds_until(notifier, lambda: _messages(db)[0].state == "failed")
    assert _messages(db)[0].last_error == "receipt_undeliv"


def test_replying_td_opts_out_and_nothing_more_is_sent(
    ctx: HallContext, db: Engine, clock: ManualClock, sim: SmscSimulator, notifier: Notifier
) -> None:
    ticket_id = subscribe_ticket(db, ctx)
    notifier.run_once()  # binds (nothing to send yet: nobody ahead)
    assert sim.mo(PHONE, "TD")

    def opted_out() -> bool:
        with session_scope(db) as s:
            contact = contacts.find(s, ctx, PHONE)
            return contact is not None and contact.opted_out_at is not None

    _rounds_until(notifier, opted_out)
    with session_scope(db) as s:
        queued = outbox.enqueue(
            s, ctx, key="t", template="case_result", params={"item": "x", "serial": "1", "status": "已办结"},
            subjects=[f"ticket:{ticket_id}"],
        )  # fmt: skip
    assert queued == []
    notifier.run_once(slow=True)
    assert sim.submitted == []


def test_a_digit_reply_rates_the_visit_of_the_invitation(
    ctx: HallContext, db: Engine, clock: ManualClock, sim: SmscSimulator, notifier: Notifier
) -> None:
    subscribe_ticket(db, ctx)
    tx(db, lambda s: windows.call_next(s, ctx, "w16"))
    tx(db, lambda s: windows.start(s, ctx, "w16"))
    tx(db, lambda s: windows.finish(s, ctx, "w16", VisitOutcome.consulted))
    notifier.run_once(slow=True)
    assert sim.submitted == []  # the evaluator at the window has the first ten minutes
    clock.advance(minutes=11)
    notifier.run_once(slow=True)  # the rating scan queues the invitation
    _rounds_until(notifier, lambda: bool(sim.submitted))
    assert "或回复数字：5非常满意" in sim.submitted[0].text and "http://hall.test:8000/m/rate/" in sim.submitted[0].text
    assert sim.mo(PHONE, "5")

    def rated() -> bool:
        with session_scope(db) as s:
            return s.exec(select(Evaluation)).first() is not None

    _rounds_until(notifier, rated)
    with session_scope(db) as s:
        evaluation = s.exec(select(Evaluation)).one()
    assert (evaluation.channel, evaluation.level_gb) == ("sms", 1)  # 5 on the wire = 非常满意 = GB code 1
