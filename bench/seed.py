"""A hall that has been busy all morning: waiting tickets written straight into the server's database before
a measurement, so that benches never measure only an empty day."""

from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa

from bench.live_hall import LiveHall, morning
from hallcore.announce import ticket_number
from hallserver.db import make_engine
from hallserver.models import Ticket, TicketCounter


def seed_waiting(hall: LiveHall, n: int, window: str = "w01") -> None:
    """n waiting tickets of today in the groups `window` serves, queued in the last minutes (numbers and
    counters as the server would have made them), written straight into the server's database."""
    day = hall.days[0]  # the next new_day()
    groups = next(w.groups for w in hall.hall.windows if w.id == window)
    prefixes = {g.code: g.prefix for g in hall.hall.groups}
    seqs: dict[str, int] = {}
    rows = []
    start = morning(day) - timedelta(seconds=n * 0.002 + 1)
    for i in range(n):
        group = groups[i % len(groups)]
        series = prefixes[group]
        seqs[series] = seqs.get(series, 0) + 1
        at = start + timedelta(milliseconds=2 * i)
        rows.append(
            {
                "number": ticket_number(series, seqs[series]),
                "series": series,
                "seq": seqs[series],
                "service_date": day,
                "group_code": group,
                "priority": "normal",
                "channel": "kiosk",
                "state": "waiting",
                "issued_at": at,
                "queue_key": at,
                "call_count": 0,
                "public_token": secrets.token_urlsafe(16),
            }
        )
    engine = make_engine(hall.url)
    try:
        with engine.begin() as conn:
            for first in range(0, len(rows), 2000):
                conn.execute(sa.insert(Ticket), rows[first : first + 2000])
            counters = [{"series": s, "service_date": day, "last": last} for s, last in seqs.items()]
            if counters:
                conn.execute(sa.insert(TicketCounter), counters)
        analyze(engine)
    finally:
        engine.dispose()


def analyze(engine: sa.Engine) -> None:
    """PostgreSQL: refresh the ticket table's statistics, as autovacuum does within a minute of a burst of
    writes (a hall busy all morning has them); without, a queue written in one go is planned as if empty.
    SQLite keeps none unless asked, and the server never asks, so nothing is done there."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE ticket"))
