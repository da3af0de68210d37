"""What citizens text back: TD (退订) opts the number out; a digit 1..5 answers the newest rating invitation
(5 = 非常满意, as on the bus) through the same evaluation service as every other channel."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, select

from hallcore.errors import HallError
from hallserver.models import OutboxMessage, OutboxState, Visit
from hallserver.services import evaluations
from hallserver.services.context import HallContext
from hallserver.services.notify.contacts import find, opt_out

OPT_OUT_WORDS = {"TD", "T", "N", "退订", "STOP", "UNSUBSCRIBE", "0000"}
RATING_DAYS = 3  # a rating reply counts for invitations of the last days


@dataclass(frozen=True)
class ReplyResult:
    """What a reply did: opted_out, rated, ignored (unknown number or text)."""

    action: str
    detail: str | None = None


def handle(session: Session, ctx: HallContext, phone: str, text: str) -> ReplyResult:
    """Act on a mobile-originated message."""
    try:
        contact = find(session, ctx, phone)
    except HallError:
        return ReplyResult("ignored", "bad_number")
    if contact is None:
        return ReplyResult("ignored", "unknown_number")
    word = text.strip().upper()
    if word in OPT_OUT_WORDS:
        cancelled = opt_out(session, ctx, contact, via="sms")
        return ReplyResult("opted_out", f"cancelled {cancelled}")
    if len(word) == 1 and word in "12345":
        since = ctx.now() - timedelta(days=RATING_DAYS)
        invites = session.exec(
            select(OutboxMessage)
            .where(
                OutboxMessage.contact_id == contact.id,
                OutboxMessage.template == "rating_invite",
                col(OutboxMessage.state).in_((OutboxState.sent, OutboxState.delivered)),
                col(OutboxMessage.sent_at) > since,
            )
            .order_by(col(OutboxMessage.sent_at).desc())
        ).all()
        for invite in invites:
            visit = session.get(Visit, json.loads(invite.params).get("visit_id"))
            if visit is not None and visit.rating_gb is None:
                # vouched: the reply comes from the number this visit's invitation went to
                evaluation, _ = evaluations.submit(session, ctx, int(word), "sms", visit.id, vouched=True)
                return ReplyResult("rated", f"evaluation {evaluation.id}")
        return ReplyResult("ignored", "nothing_to_rate")
    return ReplyResult("ignored", "unknown_text")
