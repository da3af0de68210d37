"""The outbox: idempotent enqueue (one row per dedup key and contact), claiming due messages under the
per-number rate limit, and what a channel's answer does to a message — retry with backoff, give up, or
record the SMSC's id and later its delivery receipt. Every step goes to the delivery log.

Nothing is lost: a message leaves `queued` only for a final state or for `sending`, and a `sending` row
whose sender died goes back to `queued`. Nothing is sent twice: a sender claims a row with one conditional
update (queued → sending), so two senders never both get it; an outage or a refusal before the SMSC
answered leaves the row queued for a retry. Only a connection lost after submit_sm and before its
response is ambiguous; that row is retried (at least once beats never) and the log says `uncertain`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select, update

from hallserver.models import Contact, DeliveryLog, OutboxMessage, OutboxState
from hallserver.services.context import HallContext
from hallserver.services.notify import links as notify_links
from hallserver.services.notify import templates
from hallserver.services.notify.contacts import phone_of, reachable, reachable_for


@dataclass(frozen=True)
class Policy:
    """Limits and retry timing (hall-wide)."""

    per_hour: int = 5  # messages per number per rolling hour
    per_day: int = 20  # and per rolling day
    backoff_s: float = 30.0  # first retry after a throttle or error; doubles each attempt
    backoff_max_s: float = 1800.0
    down_retry_s: float = 15.0  # how soon to try again when the channel is down (attempts not counted)
    max_attempts: int = 8  # throttles and transient errors before a message is given up
    stale_sending_s: float = 120.0  # a `sending` row older than this lost its sender


DEFAULT_POLICY = Policy()


@dataclass(frozen=True)
class Claimed:
    """A message a sender now owns: where to, what text, and its key (the webhook's idempotency key)."""

    outbox_id: int
    channel: str
    phone: str
    text: str
    template: str
    dedup_key: str


@dataclass(frozen=True)
class Outcome:
    """A channel's answer to one message."""

    kind: Literal["accepted", "retry", "refused", "down", "uncertain"]
    message_ids: tuple[str, ...] = ()
    code: str | None = None  # English, e.g. ESME_RTHROTTLED, http_429, connection_refused
    retry_after_s: float | None = None


def _log(session: Session, ctx: HallContext, outbox_id: int, event: str, detail: str | None = None,
         message_id: str | None = None) -> None:  # fmt: skip
    session.add(DeliveryLog(outbox_id=outbox_id, at=ctx.now(), event=event, detail=detail, message_id=message_id))


def enqueue(
    session: Session,
    ctx: HallContext,
    *,
    key: str,
    template: str,
    params: Mapping[str, Any],
    subjects: Iterable[str] = (),
    person_hash: str | None = None,
    expires_at: datetime | None = None,
    not_before: datetime | None = None,
) -> list[OutboxMessage]:
    """Queue `template` for every reachable contact of the subjects (or the person). The same `key` queues
    nothing new for a contact that already has it, so triggers may fire as often as they like."""
    templates.check(template, params)
    now = ctx.now()
    out = []
    for contact in reachable_for(session, subjects, person_hash):
        dedup = f"{key}:c{contact.id}"
        existing = session.exec(select(OutboxMessage).where(OutboxMessage.dedup_key == dedup)).first()
        if existing is not None:
            out.append(existing)
            continue
        row = OutboxMessage(
            dedup_key=dedup,
            contact_id=contact.id,  # type: ignore[arg-type]
            channel=contact.channel,
            template=template,
            params=json.dumps(dict(params), ensure_ascii=False, default=str),
            next_try_at=max(now, not_before) if not_before else now,
            expires_at=expires_at,
            created_at=now,
        )
        try:
            with session.begin_nested():  # another server process queued it first: keep theirs
                session.add(row)
        except IntegrityError:
            taken = session.exec(select(OutboxMessage).where(OutboxMessage.dedup_key == dedup)).first()
            if taken is not None:
                out.append(taken)
            continue
        _log(session, ctx, row.id, "queued", template)  # type: ignore[arg-type]
        out.append(row)
    session.flush()
    return out


def requeue_stale(session: Session, ctx: HallContext, policy: Policy = DEFAULT_POLICY) -> int:
    """Rows left in `sending` by a sender that died go back to the queue."""
    cutoff = ctx.now() - timedelta(seconds=policy.stale_sending_s)
    stale = session.exec(
        select(OutboxMessage.id).where(
            OutboxMessage.state == OutboxState.sending, col(OutboxMessage.claimed_at) < cutoff
        )
    ).all()
    for outbox_id in stale:
        session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == outbox_id, col(OutboxMessage.state) == OutboxState.sending)
            .values(state=OutboxState.queued, next_try_at=ctx.now())
        )
        _log(session, ctx, outbox_id, "uncertain", "sender_lost")  # type: ignore[arg-type]
    return len(stale)


# Texts the citizen asked for a moment ago (the case lookup's code). They have limits of their own (per ID and
# per client address, case_lookup_code) and expire in minutes: held back by the number's hourly cap behind the
# hall's own notices, the citizen would never get one.
ASKED_FOR = frozenset({"lookup_code"})


def claim_due(
    session: Session,
    ctx: HallContext,
    channels: Iterable[str],
    limit: int = 20,
    policy: Policy = DEFAULT_POLICY,
    base_url: str | None = None,
) -> list[Claimed]:
    """Due messages for these channels, each moved queued → sending by this caller alone. Expired ones,
    opted-out ones and those over the number's rate limit are settled or put off on the way. Links in the
    texts (the rating invitation's) are on `base_url`, the server's public address."""
    now = ctx.now()
    rows = session.exec(
        select(OutboxMessage)
        .where(
            OutboxMessage.state == OutboxState.queued,
            col(OutboxMessage.next_try_at) <= now,
            col(OutboxMessage.channel).in_(list(channels)),
        )
        .order_by(col(OutboxMessage.next_try_at), col(OutboxMessage.id))
        .limit(limit)
    ).all()
    claimed = []
    for row in rows:
        assert row.id is not None
        contact = session.get(Contact, row.contact_id)
        if contact is None or not reachable(contact):
            _settle(session, ctx, row, OutboxState.cancelled, "opted_out")
            continue
        if row.expires_at is not None and row.expires_at <= now:
            _settle(session, ctx, row, OutboxState.expired, "too_late")
            continue
        wait = None if row.template in ASKED_FOR else _rate_wait(session, contact.id, now, policy)  # type: ignore[arg-type]
        if wait is not None:
            row.next_try_at = wait
            session.add(row)
            _log(session, ctx, row.id, "rate_limited", f"until {wait.isoformat()}")
            continue
        taken = session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == row.id, col(OutboxMessage.state) == OutboxState.queued)
            .values(state=OutboxState.sending, claimed_at=now)
        )
        if taken.rowcount != 1:
            continue  # another sender got it
        session.refresh(row)
        params = notify_links.fill(session, ctx, row.template, json.loads(row.params), base_url)
        text = templates.render(row.template, params, ctx.profile.hall.name)
        claimed.append(Claimed(row.id, row.channel, phone_of(ctx, contact), text, row.template, row.dedup_key))
    session.flush()
    return claimed


def _rate_wait(session: Session, contact_id: int, now: datetime, policy: Policy) -> datetime | None:
    """When this number may get its next message, or None if it may now."""
    for window, cap in ((timedelta(hours=1), policy.per_hour), (timedelta(days=1), policy.per_day)):
        since = now - window
        sent = session.exec(
            select(OutboxMessage.claimed_at)
            .where(
                OutboxMessage.contact_id == contact_id,
                col(OutboxMessage.state).in_((OutboxState.sending, OutboxState.sent, OutboxState.delivered)),
                col(OutboxMessage.claimed_at) > since,
            )
            .order_by(col(OutboxMessage.claimed_at))
        ).all()
        if len(sent) >= cap:
            oldest = sent[len(sent) - cap]
            assert oldest is not None
            return oldest + window
    return None


def _settle(session: Session, ctx: HallContext, row: OutboxMessage, state: OutboxState, code: str) -> None:
    row.state, row.last_error = state, code
    session.add(row)
    _log(session, ctx, row.id, state.value, code)  # type: ignore[arg-type]


def record_outcome(
    session: Session, ctx: HallContext, outbox_id: int, outcome: Outcome, policy: Policy = DEFAULT_POLICY
) -> OutboxMessage:
    """Apply a channel's answer to a claimed message."""
    row = session.get(OutboxMessage, outbox_id)
    if row is None:
        raise LookupError(f"outbox {outbox_id} vanished")
    now = ctx.now()
    if outcome.kind == "accepted":
        row.state, row.sent_at, row.attempts, row.last_error = OutboxState.sent, now, row.attempts + 1, None
        row.message_id = outcome.message_ids[0] if outcome.message_ids else None
        for mid in outcome.message_ids or ("",):
            _log(session, ctx, outbox_id, "submitted", outcome.code, mid or None)
    elif outcome.kind == "refused":
        row.attempts += 1
        _settle(session, ctx, row, OutboxState.failed, outcome.code or "refused")
    elif outcome.kind == "down":  # the channel, not the message: try again soon, attempts not counted
        row.state, row.last_error = OutboxState.queued, outcome.code or "down"
        row.next_try_at = now + timedelta(seconds=policy.down_retry_s)
        _log(session, ctx, outbox_id, "down", outcome.code)
    else:  # retry (throttled, transient) or uncertain (connection lost mid-submit)
        row.attempts += 1
        if row.attempts >= policy.max_attempts:
            _settle(session, ctx, row, OutboxState.failed, f"gave_up:{outcome.code or outcome.kind}"[:60])
        else:
            delay = min(policy.backoff_s * 2 ** (row.attempts - 1), policy.backoff_max_s)
            delay = max(delay, outcome.retry_after_s or 0)
            row.state, row.last_error = OutboxState.queued, outcome.code or outcome.kind
            row.next_try_at = now + timedelta(seconds=delay)
            _log(session, ctx, outbox_id, "throttled" if outcome.kind == "retry" else "uncertain", outcome.code)
    session.add(row)
    session.flush()
    return row


RECEIPT_FAILURES = {"UNDELIV", "REJECTD", "EXPIRED", "DELETED", "UNKNOWN"}


def record_receipt(session: Session, ctx: HallContext, message_id: str, stat: str) -> OutboxMessage | None:
    """A delivery receipt (SMSC message id, final state such as DELIVRD); None for an id we never sent."""
    outbox_id = session.exec(
        select(DeliveryLog.outbox_id).where(DeliveryLog.message_id == message_id, DeliveryLog.event == "submitted")
    ).first()
    if outbox_id is None:
        return None
    row = session.get(OutboxMessage, outbox_id)
    assert row is not None
    _log(session, ctx, outbox_id, "receipt", stat[:16], message_id)
    if stat == "DELIVRD" and row.state == OutboxState.sent:
        row.state, row.delivered_at = OutboxState.delivered, ctx.now()
    elif stat in RECEIPT_FAILURES and row.state == OutboxState.sent:
        row.state, row.last_error = OutboxState.failed, f"receipt_{stat.lower()}"
    session.add(row)
    session.flush()
    return row


def counts(session: Session) -> dict[str, int]:
    """Messages per state (for the managers' overview)."""
    rows = session.exec(select(OutboxMessage.state, func.count()).group_by(col(OutboxMessage.state))).all()
    return {state: int(n) for state, n in rows}


def log_of(session: Session, outbox_id: int) -> list[DeliveryLog]:
    """A message's delivery log, oldest first."""
    return list(
        session.exec(select(DeliveryLog).where(DeliveryLog.outbox_id == outbox_id).order_by(col(DeliveryLog.id))).all()
    )
