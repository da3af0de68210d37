"""The SMSC goes down in the middle of a batch (after accepting two of five messages): the two are not sent
again, the three wait in the outbox without being counted as failed attempts, and once the SMSC is back every
number has its message exactly once."""

from __future__ import annotations

import time

from sqlalchemy import Engine
from sqlmodel import col, select

from hallcore.clock import ManualClock
from hallserver.db import session_scope
from hallserver.models import OutboxMessage
from hallserver.notify.smsc_sim import SmscSimulator
from hallserver.notify.worker import Notifier
from hallserver.services.context import HallContext
from hallserver.services.notify import contacts, outbox

PHONES = [f"1380013{n:04d}" for n in range(5)]


def _states(db: Engine) -> list[tuple[str, int]]:
    with session_scope(db) as s:
        rows = s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        return [(r.state, r.attempts) for r in rows]


def test_an_outage_mid_batch_loses_nothing_and_sends_nothing_twice(
    ctx: HallContext, db: Engine, clock: ManualClock, sim: SmscSimulator, notifier: Notifier
) -> None:
    with session_scope(db) as s:
        for n, phone in enumerate(PHONES):
            contacts.record(s, ctx, phone, True, channel="sms", via="window", by="s16", subjects=[f"case:S{n}"])
            outbox.enqueue(s, ctx, key=f"case:S{n}:已办结", template="case_result", subjects=[f"case:S{n}"],
                           params={"item": "居住证申领", "serial": f"S{n}", "status": "已办结"})  # fmt: skip
    sim.down_after = 2
    notifier.run_once(slow=False)
    states = _states(db)
    assert [s for s, _ in states[:2]] in (["sent", "sent"], ["delivered", "delivered"], ["sent", "delivered"],
                                         ["delivered", "sent"])  # fmt: skip
    assert all(state == "queued" for state, _ in states[2:]), states  # waiting, not failed
    assert len(sim.submitted) == 2

    sim.start()  # back, on the same port
    for _ in range(100):
        clock.advance(seconds=16)  # past the channel-down pause (and any backoff of an uncertain submit)
        notifier.run_once(slow=False)
        if all(state == "delivered" for state, _ in _states(db)):
            break
        time.sleep(0.02)
    assert all(state == "delivered" for state, _ in _states(db)), _states(db)
    assert sorted(m.destination for m in sim.submitted) == sorted("86" + p for p in PHONES)  # once each
