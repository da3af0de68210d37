"""Case lookup on a phone by ID number and a one-time SMS code (issue 16, part 5).

A citizen enters an ID number; if a consented, not opted-out phone number is on file for that person, a
6-digit code goes to it by SMS (through the outbox). The answer is the same whether or not the ID is known or
has a number, so the page reveals nothing about who has been to the hall. Requests are limited per ID and per
client address; a code lives 5 minutes and allows 5 tries; once it matches, the lookup is spent.

Pending lookups live in memory (a restart only means asking for a new code). The code itself is a keyed HMAC
of a random nonce: the outbox stores the nonce, the text gets the code as it is sent (notify/links.py), so
no copy of the database holds a usable code."""

from __future__ import annotations

import hmac
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from hallcore.errors import HallError
from hallcore.identity import identity_hash, normalize_id_number
from hallserver.services.context import HallContext
from hallserver.services.notify.links import lookup_code
from hallserver.services.notify.outbox import enqueue

TEMPLATE = "lookup_code"
CODE_TTL = timedelta(minutes=5)
MAX_TRIES = 5
SENT = "如该证件已登记手机号，验证码已发送至该手机，5分钟内有效。请输入短信中的6位验证码。"
NO_PHONE_HINT = "如未登记手机号，请凭办件流水号和受理凭证上的查询码查询，或到大厅咨询台、办件窗口查询。"
TOO_MANY = "获取验证码过于频繁，请稍后再试，或凭办件流水号和查询码查询"
EXPIRED = "验证码已失效，请重新获取"
WRONG = "验证码不正确，请核对短信后重新输入"
USED_UP = "验证码输错次数过多，请重新获取"


@dataclass(frozen=True)
class Limits:
    """How often codes may be asked for."""

    per_id: int = 3  # codes per ID number …
    per_id_window: timedelta = timedelta(minutes=30)
    per_client: int = 10  # … and per client address
    per_client_window: timedelta = timedelta(hours=1)


@dataclass
class _Pending:
    id_number: str | None  # None: unknown ID or no phone on file (the same answer is given)
    nonce: str
    expires: datetime
    tries: int = 0


@dataclass(frozen=True)
class Verified:
    """A matched code: whose cases to list (the ID number, kept only for this request)."""

    id_number: str


@dataclass
class LookupCodes:
    """Pending lookups and the request limits of one hall server (on the hall's injected clock)."""

    limits: Limits = field(default_factory=Limits)
    _pending: dict[str, _Pending] = field(default_factory=dict)
    _asked: dict[str, deque[datetime]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def request(self, session: Session, ctx: HallContext, raw_id: str, client: str) -> str:
        """Send a code if the ID has a phone on file; returns the reference the code form carries. Raises
        `invalid` for a malformed number and `rate_limited` when asked too often (for any ID, known or not)."""
        id_number = normalize_id_number(raw_id)  # a typo is the citizen's to fix: says nothing about the hall
        digest = identity_hash(ctx.identity_key, id_number)
        now = ctx.now()
        with self._lock:
            self._forget(now)
            if not self._allow(f"client:{client}", now, self.limits.per_client, self.limits.per_client_window):
                raise HallError("rate_limited", TOO_MANY)
            if not self._allow(f"id:{digest}", now, self.limits.per_id, self.limits.per_id_window):
                raise HallError("rate_limited", TOO_MANY)
        nonce = secrets.token_hex(16)
        queued = enqueue(
            session, ctx, key=f"lookup:{nonce}", template=TEMPLATE, params={"nonce": nonce},
            person_hash=digest, expires_at=now + CODE_TTL,
        )  # fmt: skip
        ref = secrets.token_urlsafe(18)
        with self._lock:
            self._pending[ref] = _Pending(id_number if queued else None, nonce, now + CODE_TTL)
        return ref

    def verify(self, ctx: HallContext, ref: str, code: str) -> Verified:
        """The lookup's person when `code` matches; a wrong code costs one of five tries."""
        now = ctx.now()
        with self._lock:
            pending = self._pending.get(ref)
            if pending is None or pending.expires <= now:
                self._pending.pop(ref, None)
                raise HallError("expired", EXPIRED)
            if pending.tries >= MAX_TRIES:
                raise HallError("too_many_tries", USED_UP)
            pending.tries += 1
            good = pending.id_number is not None and hmac.compare_digest(lookup_code(ctx, pending.nonce), code.strip())
            if not good:
                if pending.tries >= MAX_TRIES:
                    self._pending.pop(ref, None)
                    raise HallError("too_many_tries", USED_UP)
                raise HallError("wrong_code", WRONG, tries_left=MAX_TRIES - pending.tries)
            del self._pending[ref]  # one use
        assert pending.id_number is not None
        return Verified(pending.id_number)

    def _allow(self, key: str, now: datetime, cap: int, window: timedelta) -> bool:
        asked = self._asked.setdefault(key, deque())
        while asked and now - asked[0] >= window:
            asked.popleft()
        if len(asked) >= cap:
            return False
        asked.append(now)
        return True

    def _forget(self, now: datetime) -> None:
        """Drop expired lookups and idle counters, so memory stays bounded."""
        self._pending = {k: p for k, p in self._pending.items() if p.expires > now}
        if len(self._asked) > 10_000:
            longest = max(self.limits.per_id_window, self.limits.per_client_window)
            self._asked = {k: v for k, v in self._asked.items() if v and now - v[-1] < longest}
