"""Group commit in the gateway: requests waiting together are answered in one transaction, each in its own
savepoint, and the exactly-once and one-reply rules hold inside a batch and when its commit fails."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import event, func
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from broker.messages import Reply, Request
from hallserver.db import session_scope
from hallserver.gateway.requests import RequestJob
from hallserver.models import RequestLog, Ticket
from tests.gateway.fixtures import Bus
from tests.integration.helpers import id_number

KIOSK = "kiosk-01"


def _issue(group: str, person: int | None, rid: str | None = None) -> tuple[str, bytes]:
    rid = rid or Request.new_id()
    body: dict = {"ts": "2026-11-23T09:00:00+08:00", "request_id": rid, "group": group}
    if person is not None:
        body["identity"] = {"id_number": id_number(person), "method": "id_card"}
    return rid, json.dumps(body).encode()


@pytest.fixture
def answered(bus: Bus) -> Iterator[list[tuple[str, Reply]]]:
    """Every reply the gateway sends, in order (the real reply path still publishes it)."""
    out: list[tuple[str, Reply]] = []
    reply = bus.gateway._reply
    bus.gateway._reply = lambda device, r: (out.append((device, r)), reply(device, r))[1]  # type: ignore[method-assign, func-returns-value]
    yield out
    bus.gateway._reply = reply  # type: ignore[method-assign]


def _batch(bus: Bus, *requests: tuple[str, str, bytes]) -> None:
    """Hand the worker's batch handler these (device, action, payload) requests at once."""
    jobs = [RequestJob(bus.gateway, bus.topics.request(d, a), p) for d, a, p in requests]
    bus.gateway._handle_batch(jobs)


def _tickets(bus: Bus) -> list[str]:
    with session_scope(bus.gateway.engine) as s:
        return sorted(s.exec(select(Ticket.number)).all())


def test_a_batch_answers_each_request_once_and_a_refusal_undoes_only_itself(
    bus: Bus, answered: list[tuple[str, Reply]]
) -> None:
    rid_a, a = _issue("police", 1)
    rid_b, b = _issue("police", 1)  # the same person again: already waiting, refused
    rid_c, c = _issue("police", 2)
    _batch(
        bus,
        (KIOSK, "ticket.issue", a),
        (KIOSK, "ticket.issue", b),
        (KIOSK, "ticket.issue", a),  # a retry inside the same batch: the same answer, no second ticket
        ("kiosk-02", "ticket.issue", a),  # the same request_id from another device is another request…
        (KIOSK, "ticket.issue", c),
    )
    by = [
        (device, r.request_id, r.status, (r.data or {}).get("ticket"), r.error and r.error.code)
        for device, r in answered
    ]
    assert by == [
        (KIOSK, rid_a, "ok", "A001", None),
        (KIOSK, rid_b, "error", None, "already_waiting"),
        (KIOSK, rid_a, "ok", "A001", None),
        ("kiosk-02", rid_a, "error", None, "already_waiting"),  # …refused by the limit, not by idempotency
        (KIOSK, rid_c, "ok", "A002", None),  # the refused requests gave their numbers back
    ]
    assert _tickets(bus) == ["A001", "A002"]
    answered.clear()
    _batch(bus, (KIOSK, "ticket.issue", b), (KIOSK, "ticket.issue", a))  # retries in a later batch: from the log
    assert [(r.request_id, r.status) for _, r in answered] == [(rid_b, "error"), (rid_a, "ok")]
    assert _tickets(bus) == ["A001", "A002"]


def test_a_failed_commit_answers_unavailable_and_a_retry_is_answered_afresh(
    bus: Bus, answered: list[tuple[str, Reply]]
) -> None:
    rid_a, a = _issue("police", 11)
    rid_b, b = _issue("social", 12)
    engine = bus.gateway.engine

    def fail(_conn: object) -> None:
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    event.listen(engine, "commit", fail)
    try:
        _batch(bus, (KIOSK, "ticket.issue", a), (KIOSK, "ticket.issue", b))
    finally:
        event.remove(engine, "commit", fail)
    assert [(r.request_id, r.status, r.error and r.error.code) for _, r in answered] == [
        (rid_a, "error", "unavailable"),
        (rid_b, "error", "unavailable"),
    ]
    assert _tickets(bus) == []  # nothing a device was told about is missing: it was told nothing
    answered.clear()
    _batch(bus, (KIOSK, "ticket.issue", a), (KIOSK, "ticket.issue", b))  # the kiosks retry
    assert [(r.request_id, r.status) for _, r in answered] == [(rid_a, "ok"), (rid_b, "ok")]
    assert _tickets(bus) == ["A001", "B001"]


def test_a_fault_in_one_request_costs_only_its_own_answer(
    bus: Bus, answered: list[tuple[str, Reply]], monkeypatch: pytest.MonkeyPatch
) -> None:
    handle = bus.gateway.handlers.handle

    def faulty(session, device, action, request):  # type: ignore[no-untyped-def]
        if getattr(request, "group", None) == "social":
            session.add(Ticket(number="X", series="X", seq=1, service_date=bus.clock.now().date(), group_code="x",
                               issued_at=bus.clock.now(), queue_key=bus.clock.now()))  # fmt: skip
            session.flush()
            raise RuntimeError("a bug in a handler")
        return handle(session, device, action, request)

    monkeypatch.setattr(bus.gateway.handlers, "handle", faulty)
    rid_a, a = _issue("police", 21)
    rid_b, b = _issue("social", 22)
    rid_c, c = _issue("property", 23)
    _batch(bus, (KIOSK, "ticket.issue", a), (KIOSK, "ticket.issue", b), (KIOSK, "ticket.issue", c))
    assert [(r.request_id, r.status, r.error and r.error.code) for _, r in answered] == [
        (rid_a, "ok", None),
        (rid_b, "error", "unavailable"),
        (rid_c, "ok", None),
    ]
    assert _tickets(bus) == ["A001", "C001"]  # the faulty request's half-done work was rolled back
    with session_scope(bus.gateway.engine) as s:
        assert s.get(RequestLog, (KIOSK, rid_b)) is None  # not logged: a retry is answered afresh


def test_requests_queued_together_share_one_transaction(bus: Bus) -> None:
    """Over the real broker: while the worker is busy, 20 requests queue; they are answered in one batch."""
    client, inbox = bus.device(KIOSK, bus.topics.device(KIOSK, "reply"), replies=False)
    release = threading.Event()
    bus.gateway._work.put(lambda: release.wait(10))  # the worker is busy with something else
    payloads = [_issue("consult", None) for _ in range(20)]
    for _rid, payload in payloads:
        client.mqtt.publish(bus.topics.request(KIOSK, "ticket.issue"), payload, qos=1)
    queued = threading.Event()

    def count_queued() -> None:
        while bus.gateway._work.qsize() < 20 and not release.is_set():
            threading.Event().wait(0.01)
        queued.set()

    threading.Thread(target=count_queued, daemon=True).start()
    assert queued.wait(10)
    begins: list[str] = []
    engine = bus.gateway.engine
    listener = lambda *_a: begins.append("begin")  # noqa: E731
    event.listen(engine, "begin", listener)
    try:
        release.set()
        bus.gateway.drain()
    finally:
        event.remove(engine, "begin", listener)
    for rid, _payload in payloads:
        inbox.wait_for(lambda _t, p, rid=rid: bool(p) and p["request_id"] == rid and p["status"] == "ok")
    assert len(begins) == 1  # one transaction, one commit for all twenty
    with session_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(Ticket)).one() == 20
