"""Drive a real hall day through the services (their own transactions, as the API does) and read the outbox."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine
from sqlmodel import col, select

from hallcore.complaints import ComplaintSubmit
from hallserver.models import Outcome, SyncOutbox, SyncState
from hallserver.services import complaints, evaluations, windows
from hallserver.services.context import HallContext
from hallserver.services.visits import FinishDetails
from tests.integration.helpers import id_number, issue, tx

ITEM = "11440300MB2D41730K000172102000000"  # 居住证申领 (police group, w05)
CITY_KEY = bytes(range(32))
NAME = "欧阳小明"
PHONE = "13912345678"


def serve(engine: Engine, ctx: HallContext, seed: int, outcome: Outcome = Outcome.accepted) -> int:
    """A real-name ticket for 居住证申领 served at w05 to `outcome`; the visit id."""
    issue(engine, ctx, item_code=ITEM, id_number=id_number(seed), name=NAME)
    tx(engine, lambda s: windows.call_next(s, ctx, "w05"))
    tx(engine, lambda s: windows.start(s, ctx, "w05"))
    tx(engine, lambda s: windows.finish(s, ctx, "w05", outcome, details=FinishDetails(delivery="邮寄")))
    from hallserver.models import Ticket
    from hallserver.services.visits import last_visit

    def visit_id(s: Any) -> int:
        ticket = s.exec(select(Ticket).order_by(col(Ticket.id).desc())).first()
        visit = last_visit(s, ticket.id)
        assert visit is not None and visit.id is not None
        return visit.id

    return tx(engine, visit_id)


def rate_bad(engine: Engine, ctx: HallContext, visit_id: int, comment: str) -> int:
    """A 差评 on the window's evaluator; the rectification's id."""
    _, rect = tx(engine, lambda s: evaluations.submit(s, ctx, 1, "evaluator", visit_id=visit_id, comment=comment))
    assert rect is not None
    return int(rect.id)  # type: ignore[arg-type]


def complain(engine: Engine, ctx: HallContext) -> str:
    """A complaint with name and phone, classified in remit; its reference."""
    cmd = ComplaintSubmit(kind="complaint", content=f"窗口态度不好，我的电话{PHONE}", name=NAME, phone=PHONE)
    ref = tx(engine, lambda s: complaints.submit(s, ctx, cmd, channel="window", by="s18").complaint.reference)
    tx(engine, lambda s: complaints.classify(s, ctx, complaints.get(s, ref), True, "s18"))
    return ref


def outbox_rows(engine: Engine) -> list[SyncOutbox]:
    """Every outbox row in seq order."""
    return tx(engine, lambda s: list(s.exec(select(SyncOutbox).order_by(col(SyncOutbox.seq))).all()))


def last_seq(engine: Engine) -> int:
    """The counter row's last seq."""
    return tx(engine, lambda s: s.get(SyncState, 1).last_seq)  # type: ignore[union-attr]


def kinds(rows: list[SyncOutbox]) -> list[str]:
    return [r.kind for r in rows]


def record(row: SyncOutbox) -> dict[str, Any]:
    return dict(json.loads(row.record))
