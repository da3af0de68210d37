"""Capture: each stream's records are written into the outbox in the same transaction as the change, under
the gapless seq, with identities as hashes under the city's key and no plaintext personal data."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from hallcore.identity import identity_hash, mask_name
from hallcore.sync import RECORDS, Envelope, parse
from hallserver.models import Outcome
from hallserver.services import evaluations
from hallserver.services.context import HallContext
from hallserver.sync import capture, outbox
from tests.integration.helpers import id_number, tx
from tests.sync.helpers import CITY_KEY, NAME, PHONE, complain, kinds, last_seq, outbox_rows, rate_bad, record, serve


@pytest.fixture
def captured(engine: Engine, ctx: HallContext) -> Iterator[Engine]:
    capture.install(engine, ctx, CITY_KEY)
    yield engine
    capture.uninstall(engine)


def test_every_stream_is_captured_without_personal_data(captured: Engine, ctx: HallContext) -> None:
    visit_id = serve(captured, ctx, 7)
    assert kinds(outbox_rows(captured)) == ["visit.finished", "case.status"]
    rect_id = rate_bad(captured, ctx, visit_id, f"等了很久，身份证{id_number(7)}，电话{PHONE}")
    tx(captured, lambda s: evaluations.callback(s, ctx, rect_id, "s05", "已电话回访"))
    complain(captured, ctx)
    rows = outbox_rows(captured)
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1)) and last_seq(captured) == len(rows)
    assert kinds(rows) == [
        "visit.finished",
        "case.status",
        "evaluation",
        "rectification",
        "rectification",  # called back: its state moved
        "complaint",
        "complaint",  # classified
    ]
    city_hash = identity_hash(CITY_KEY, id_number(7))
    visit, case = record(rows[0]), record(rows[1])
    assert visit["person_hash"] == city_hash and case["person_hash"] == city_hash
    assert visit["person_hash"] != identity_hash(ctx.identity_key, id_number(7))  # never the hall's own key
    assert case["status"] == "已受理" and case["serial_no"] == visit["serial_no"] and case["delivery"] == "邮寄"
    assert record(rows[2])["level_gb"] == 5 and record(rows[2])["is_bad"] is True
    assert [record(r)["state"] for r in rows[3:5]] == ["open", "called_back"]
    for row in rows:  # every record passes the city's own check, and carries nothing personal
        text = row.record
        for secret in (id_number(7), id_number(7)[6:14], NAME, mask_name(NAME), PHONE):
            assert secret not in text, (row.kind, secret)
        raw = outbox.message(row, "0001", ctx.calendar.zone)
        env, _ = parse(RECORDS[row.kind][0].value, raw)
        assert env.hall == "0001" and env.seq == row.seq and env.ts.utcoffset() is not None
    assert "139****5678" in record(rows[2])["comment"]  # the comment is kept, masked


def test_a_rolled_back_transaction_leaves_no_record_and_no_hole(captured: Engine, ctx: HallContext) -> None:
    serve(captured, ctx, 8)
    before = last_seq(captured)

    def fails(s: object) -> None:
        serve_in = outbox.append  # noqa: F841 (the failing transaction below writes a real record first)
        from hallserver.services import tickets, windows
        from tests.integration.helpers import command

        tickets.issue_ticket(s, ctx, command(item_code="11440300MB2D41730K000172102000000", id_number=id_number(9)))  # type: ignore[arg-type]
        windows.call_next(s, ctx, "w05")  # type: ignore[arg-type]
        windows.start(s, ctx, "w05")  # type: ignore[arg-type]
        windows.finish(s, ctx, "w05", Outcome.accepted)  # type: ignore[arg-type]
        s.flush()  # type: ignore[attr-defined]
        raise RuntimeError("the printer caught fire")

    with pytest.raises(RuntimeError):
        tx(captured, fails)
    assert last_seq(captured) == before and len(outbox_rows(captured)) == before
    serve(captured, ctx, 10)
    assert [r.seq for r in outbox_rows(captured)] == list(range(1, before + 3))


def test_nothing_is_captured_on_an_engine_without_capture(engine: Engine, ctx: HallContext) -> None:
    serve(engine, ctx, 11)
    assert outbox_rows(engine) == [] and last_seq(engine) == 0


def test_envelope_is_what_the_city_parses(captured: Engine, ctx: HallContext) -> None:
    serve(captured, ctx, 12, Outcome.completed)
    row = outbox_rows(captured)[0]
    env = Envelope.model_validate_json(outbox.message(row, "0001", ctx.calendar.zone))
    assert env.kind == "visit.finished" and json.loads(row.record) == env.record
