"""Notification fixtures: a fresh SQLite hall with its windows, the local SMSC simulator, and a notifier that
sends through the real SMPP client to it, on the manual clock (rounds are run by the test, not a thread)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from hallcore.contacts import ContactConsent
from hallserver.db import make_engine, session_scope
from hallserver.notify.smpp import SmppAccount, SmppChannel
from hallserver.notify.smsc_sim import SmscSimulator
from hallserver.notify.worker import Notifier
from hallserver.services import windows
from hallserver.services.context import HallContext
from hallserver.services.notify import contacts
from hallserver.services.notify.outbox import Policy
from hallserver.services.notify.triggers import TriggerRules
from tests.conftest import fresh_sqlite
from tests.integration.helpers import issue

PHONE = "13800138000"


@pytest.fixture
def db(sqlite_template: Path, tmp_path: Path, ctx: HallContext) -> Iterator[Engine]:
    """A migrated SQLite copy with the demo hall's windows."""
    engine = make_engine(fresh_sqlite(sqlite_template, tmp_path))
    with session_scope(engine) as s:
        windows.sync_windows(s, ctx.profile, ctx.now())
    yield engine
    engine.dispose()


@pytest.fixture
def sim() -> Iterator[SmscSimulator]:
    """The SMSC simulator on a free port."""
    smsc = SmscSimulator(system_id="hallq", password="secret").start()
    yield smsc
    smsc.stop()


@pytest.fixture
def notifier(ctx: HallContext, db: Engine, sim: SmscSimulator) -> Iterator[Notifier]:
    """Sends SMS to the simulator through smpplib."""
    channel = SmppChannel(SmppAccount("127.0.0.1", sim.port, "hallq", "secret", timeout_s=5))
    n = Notifier(ctx, db, {"sms": channel}, TriggerRules(near_turn=3), Policy(), base_url="http://hall.test:8000")
    yield n
    n.stop()


def subscribe_ticket(db: Engine, ctx: HallContext, phone: str = PHONE, **kw: object) -> int:
    """Issue an anonymous consultation ticket and give it a number through the kiosk's consent path."""
    ticket = issue(db, ctx, group="consult", **kw)
    with session_scope(db) as s:
        contacts.from_kiosk(s, ctx, ContactConsent(phone=phone, consent=True, ticket=ticket.number), "kiosk-01")
    assert ticket.id is not None
    return ticket.id


def all_text(db: Engine) -> str:
    """Every value of every table, as one string (to prove a number is stored nowhere in plaintext)."""
    out = []
    with db.connect() as conn:
        for table in inspect(db).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                out.append(" ".join(str(v) for v in row))
    return "\n".join(out)
