"""Proof that a rater had the visit they rate, and the codes citizens carry for it.

A visit may be rated by the ID card that took its ticket (keyed-hash match), by its 6-digit rating code (in
the rating invitation), or through its one-time phone link (/m/rate/{token}). Codes and tokens are keyed
HMACs of the visit (derived from the identity key, domain-separated), so nothing extra is stored: a link is
single-use because a visit takes one initial rating (一次一评), and it expires with its embedded date. A
visit's code may be tried wrong five times a day; then only the card or the link prove it (no guessing a
6-digit code by trying them all).

The case query code (查询码) printed next to a case's serial number is derived the same way."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import weakref
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from hallcore.errors import HallError, NotFound
from hallcore.identity import identity_hash, mask_name
from hallserver.models import Person, Visit
from hallserver.services.context import HallContext

RATE_DAYS = 7  # a visit may be rated this many days after it ended
CODE_TRIES = 5  # wrong rating codes per visit per day: a 6-digit code must not be guessed by trying them all
TOO_MANY_CODES = "评价码输错次数过多，请刷取号时使用的身份证，或点击评价短信中的链接评价"
REFUSED = "无法核实您办理过这次业务，不能评价：请刷取号时使用的身份证，或输入评价短信中的评价码"


class NotProven(HallError):
    """The rater could not prove the visit (`forbidden`, HTTP 403)."""

    http_status = 403

    def __init__(self) -> None:
        super().__init__("forbidden", REFUSED)


@dataclass(frozen=True)
class Proof:
    """What a rater shows: the ID number read from the card, or the visit's rating code, or its link token."""

    id_number: str | None = None
    code: str | None = None
    token: str | None = None


def _mac(ctx: HallContext, purpose: str, text: str, city_wide: bool = False) -> bytes:
    secret = ctx.proof_key if city_wide else ctx.identity_key
    key = hmac.new(secret, f"hallq-{purpose}".encode(), hashlib.sha256).digest()
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def _digits(mac: bytes, n: int) -> str:
    return str(int.from_bytes(mac[:8], "big") % 10**n).zfill(n)


def rating_code(ctx: HallContext, visit: Visit) -> str:
    """The visit's 6-digit rating code (typed at the kiosk with the ticket number)."""
    return _digits(_mac(ctx, "rate-code", f"{visit.id}:{visit.ticket_number}:{visit.service_date}"), 6)


def case_query_code(ctx: HallContext, serial_no: str) -> str:
    """The 6-digit 查询码 printed on the receipt beside the serial number (serials alone are guessable). Under the
    city's key when the hall is linked, so the phone page of any hall of the city can check it."""
    return _digits(_mac(ctx, "case-query", serial_no.strip().upper(), city_wide=True), 6)


def rating_token(ctx: HallContext, visit: Visit) -> str:
    """The one-time phone link's token: the visit and its expiry day, signed."""
    expires = visit.service_date + timedelta(days=RATE_DAYS)
    body = f"{visit.id}.{expires.strftime('%Y%m%d')}"
    sig = base64.urlsafe_b64encode(_mac(ctx, "rate-link", body)[:18]).decode("ascii")
    return f"{body}.{sig}"


def visit_of_token(session: Session, ctx: HallContext, token: str) -> Visit:
    """The visit a link token names; a forged, altered or expired token is refused (never says which)."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or len(parts[0]) > 12:
        raise NotFound("评价链接无效，请核对短信中的链接")
    body = f"{parts[0]}.{parts[1]}"
    expected = base64.urlsafe_b64encode(_mac(ctx, "rate-link", body)[:18]).decode("ascii")
    if not hmac.compare_digest(expected, parts[2]):
        raise NotFound("评价链接无效，请核对短信中的链接")
    expires = datetime.strptime(parts[1], "%Y%m%d").date()
    if ctx.today() > expires:
        raise HallError("expired", "评价链接已过期（办结后7天内可评价）")
    visit = session.get(Visit, int(parts[0]))
    if visit is None:
        raise NotFound("评价链接无效，请核对短信中的链接")
    return visit


def check(session: Session, ctx: HallContext, visit: Visit, proof: Proof | None, *, any_age: bool = False) -> None:
    """Refuse (`forbidden`) unless the proof ties the rater to this visit, or (unless `any_age`, as for the
    follow-up rating of a rectification) the visit is too old to rate."""
    if proof is None:
        raise NotProven()
    if not any_age and ctx.today() > visit.service_date + timedelta(days=RATE_DAYS):
        raise HallError("expired", "这次办事已超过7天，不能再评价")
    if proof.token is not None:
        if visit_of_token(session, ctx, proof.token).id == visit.id:
            return
    elif proof.code is not None:
        _code_guard(ctx, visit)
        if hmac.compare_digest(rating_code(ctx, visit), proof.code.strip()):
            return
        _code_failed(ctx, visit)
    elif proof.id_number is not None and visit.person_id is not None:
        person = session.get(Person, visit.person_id)
        digest = _hash_or_none(ctx, proof.id_number)
        if person is not None and digest is not None and hmac.compare_digest(person.id_hash, digest):
            return
    raise NotProven()


# Wrong rating codes per hall context and visit, for the last day (in memory: a restart forgets them, which
# costs an attacker a restart per five guesses).
_failures: dict[int, dict[int, deque[datetime]]] = {}
_failures_lock = threading.Lock()


def _failed_codes(ctx: HallContext, visit: Visit) -> deque[datetime]:
    key = id(ctx)
    with _failures_lock:
        if key not in _failures:
            _failures[key] = {}
            weakref.finalize(ctx, _failures.pop, key, None)
        seen = _failures[key].setdefault(visit.id or 0, deque())
        while seen and ctx.now() - seen[0] >= timedelta(days=1):
            seen.popleft()
        return seen


class TooManyCodes(HallError):
    """Five wrong rating codes for a visit today (`too_many_tries`, HTTP 429): the card or the link still work."""

    http_status = 429

    def __init__(self) -> None:
        super().__init__("too_many_tries", TOO_MANY_CODES)


def _code_guard(ctx: HallContext, visit: Visit) -> None:
    if len(_failed_codes(ctx, visit)) >= CODE_TRIES:
        raise TooManyCodes()


def _code_failed(ctx: HallContext, visit: Visit) -> None:
    seen = _failed_codes(ctx, visit)
    with _failures_lock:
        seen.append(ctx.now())


def _hash_or_none(ctx: HallContext, id_number: str) -> str | None:
    try:
        return identity_hash(ctx.identity_key, id_number)
    except (ValueError, UnicodeEncodeError):
        return None


@dataclass(frozen=True)
class RatingTarget:
    """What a rater is shown before the five levels: the visit's window, masked staff name and item."""

    visit_id: int
    ticket: str
    item_name: str | None
    window_name: str
    window_number: int | None
    staff: str | None  # masked (张*三)
    ended_at: datetime
    rated: bool


def target(ctx: HallContext, visit: Visit) -> RatingTarget:
    """The rater's view of a visit: no identity, the staff member's name masked."""
    window = next((w for w in ctx.profile.windows if w.id == visit.window_id), None)
    staff = None
    if visit.staff_id:
        try:
            staff = mask_name(ctx.profile.staff_member(visit.staff_id).name)
        except KeyError:
            staff = None
    return RatingTarget(
        visit_id=visit.id or 0,
        ticket=visit.ticket_number,
        item_name=ctx.entry_name(visit.item_code) if visit.item_code else None,
        window_name=window.name if window else visit.window_id,
        window_number=window.number if window else None,
        staff=staff,
        ended_at=visit.ended_at.astimezone(ctx.calendar.zone),
        rated=visit.rating_gb is not None,
    )
