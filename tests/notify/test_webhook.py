"""The signed webhook against a test receiver that checks every signature as a government app would."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from hallcore.clock import ManualClock
from hallserver.db import session_scope
from hallserver.models import OutboxMessage
from hallserver.notify import webhook
from hallserver.notify.worker import Notifier
from hallserver.services.context import HallContext
from hallserver.services.notify import contacts, outbox
from tests.integration.helpers import issue
from tests.notify.conftest import PHONE

SECRET = b"shared-webhook-secret"
RESULT = {"item": "居住证申领", "serial": "S1", "status": "待领取"}


@dataclass
class Receiver:
    """Answers with the next queued status (default 200) and keeps what it accepted, once per delivery key."""

    port: int = 0
    statuses: list[int] = field(default_factory=list)
    accepted: dict[str, dict[str, object]] = field(default_factory=dict)
    bad_signatures: int = 0
    posts: int = 0


@pytest.fixture
def receiver(clock: ManualClock) -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.posts += 1
            if not webhook.verify(SECRET, dict(self.headers), body, now=clock.now().timestamp()):
                state.bad_signatures += 1
                self.send_response(401)
            elif state.statuses:
                self.send_response(state.statuses.pop(0))
                self.send_header("Retry-After", "45")
            else:
                state.accepted.setdefault(self.headers[webhook.DELIVERY_HEADER], json.loads(body))
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def _gateway_contact(db: Engine, ctx: HallContext) -> int:
    ticket = issue(db, ctx, group="consult")
    with session_scope(db) as s:
        contacts.record(s, ctx, PHONE, True, channel="webhook", via="phone", by="h5", subjects=[f"ticket:{ticket.id}"])
        outbox.enqueue(s, ctx, key="case:S1", template="ready_to_collect",
                       params={**RESULT, "place": "1楼领证处"}, subjects=[f"ticket:{ticket.id}"])  # fmt: skip
    assert ticket.id is not None
    return ticket.id


def _notifier(ctx: HallContext, db: Engine, receiver: Receiver, secret: bytes = SECRET) -> Notifier:
    channel = webhook.WebhookChannel(
        f"http://127.0.0.1:{receiver.port}/notify", secret, "demo", clock=lambda: ctx.now().timestamp()
    )
    return Notifier(ctx, db, {"webhook": channel})


def _row(db: Engine) -> OutboxMessage:
    with session_scope(db) as s:
        return s.exec(select(OutboxMessage)).one()


def test_signed_post_is_verified_and_accepted(ctx: HallContext, db: Engine, receiver: Receiver) -> None:
    _gateway_contact(db, ctx)
    _notifier(ctx, db, receiver).run_once(slow=False)
    assert receiver.bad_signatures == 0
    [(key, body)] = receiver.accepted.items()
    assert key.startswith("case:S1:c") and body["phone"] == PHONE and body["template"] == "ready_to_collect"
    assert "请携带身份证到1楼领证处领取" in str(body["text"])
    assert _row(db).state == "sent"


def test_a_wrong_secret_is_refused_by_the_receiver(ctx: HallContext, db: Engine, receiver: Receiver) -> None:
    _gateway_contact(db, ctx)
    _notifier(ctx, db, receiver, secret=b"not-the-secret").run_once(slow=False)
    assert receiver.bad_signatures == 1 and receiver.accepted == {}
    assert (_row(db).state, _row(db).last_error) == ("failed", "http_401")


def test_verify_refuses_tampering_and_stale_timestamps() -> None:
    body = b'{"text":"x"}'
    headers = {webhook.TIMESTAMP_HEADER: "1000", webhook.SIGNATURE_HEADER: webhook.sign(SECRET, "1000", body)}
    assert webhook.verify(SECRET, headers, body, now=1000)
    assert not webhook.verify(SECRET, headers, b'{"text":"y"}', now=1000)
    assert not webhook.verify(SECRET, headers, body, now=1000 + webhook.MAX_SKEW_S + 1)
    assert not webhook.verify(SECRET, {**headers, webhook.TIMESTAMP_HEADER: "1001"}, body, now=1000)


def test_a_busy_gateway_gets_the_same_delivery_again_later(
    ctx: HallContext, db: Engine, clock: ManualClock, receiver: Receiver
) -> None:
    _gateway_contact(db, ctx)
    receiver.statuses = [503]
    notifier = _notifier(ctx, db, receiver)
    notifier.run_once(slow=False)
    row = _row(db)
    assert (row.state, row.last_error) == ("queued", "http_503")
    assert row.next_try_at >= clock.now() + timedelta(seconds=45)  # Retry-After honoured
    clock.advance(seconds=46)
    notifier.run_once(slow=False)
    assert _row(db).state == "sent" and receiver.posts == 2 and len(receiver.accepted) == 1


def test_gateway_unreachable_keeps_the_message(ctx: HallContext, db: Engine, receiver: Receiver) -> None:
    _gateway_contact(db, ctx)
    dead = Receiver(port=1)  # nothing listens on port 1
    _notifier(ctx, db, dead).run_once(slow=False)
    row = _row(db)
    assert row.state == "queued" and row.attempts == 0 and (row.last_error or "").startswith("unreachable")
