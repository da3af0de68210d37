"""The sender loop: runs with the server on a daemon thread (as housekeeping does). Each round: put back
messages a dead sender left, run the triggers, take in receipts and replies, then claim due messages in one
short transaction, send them with no transaction open, and record each answer in its own."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import Engine

from hallserver.db import session_scope
from hallserver.notify.channels import Channel, Receipt
from hallserver.notify.settings import NotifySettings
from hallserver.notify.smpp import SmppAccount, SmppChannel
from hallserver.notify.webhook import WebhookChannel
from hallserver.services.context import HallContext
from hallserver.services.notify import outbox, replies, triggers
from hallserver.services.notify.outbox import Outcome, Policy
from hallserver.services.notify.triggers import TriggerRules

log = logging.getLogger("hallq.notify")


def channels_from(settings: NotifySettings, ctx: HallContext) -> dict[str, Channel]:
    """The configured channels by name (sms, webhook)."""
    out: dict[str, Channel] = {}
    if settings.smpp_host:
        account = SmppAccount(
            settings.smpp_host,
            settings.smpp_port,
            settings.smpp_system_id,
            settings.smpp_password.get_secret_value(),
            settings.smpp_source,
        )
        out["sms"] = SmppChannel(account)
    if settings.webhook_url:
        secret = settings.webhook_secret.get_secret_value().encode("utf-8")
        if not secret:
            raise ValueError("HALLQ_NOTIFY_WEBHOOK_SECRET is required with HALLQ_NOTIFY_WEBHOOK_URL")
        out["webhook"] = WebhookChannel(
            settings.webhook_url, secret, ctx.profile.hall.id, clock=lambda: ctx.now().timestamp()
        )
    return out


@dataclass
class Round:
    """What one round did."""

    queued: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    receipts: int = 0
    replies: int = 0
    down: list[str] = field(default_factory=list)


class Notifier:
    """Drains the outbox through the channels; `run_once` is the whole job, the thread only repeats it."""

    def __init__(
        self,
        ctx: HallContext,
        engine: Engine,
        channels: dict[str, Channel],
        rules: TriggerRules | None = None,
        policy: Policy | None = None,
        interval_s: float = 2.0,
        slow_scan_s: float = 60.0,
        batch: int = 20,
        base_url: str | None = None,
    ) -> None:
        self.ctx, self.engine, self.channels = ctx, engine, channels
        self.base_url = base_url  # the server's public address, for the links in messages
        self.rules = rules or TriggerRules()
        self.policy = policy or Policy()
        self.interval_s, self.slow_scan_s, self.batch = interval_s, slow_scan_s, batch
        self._last_slow = float("-inf")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="hallq-notify", daemon=True)

    @classmethod
    def from_settings(
        cls, ctx: HallContext, engine: Engine, settings: NotifySettings | None = None, base_url: str | None = None
    ) -> Notifier:
        """The notifier the server runs, configured from HALLQ_NOTIFY_… and the server's public address."""
        settings = settings or NotifySettings()
        policy = Policy(per_hour=settings.per_hour, per_day=settings.per_day)
        return cls(
            ctx, engine, channels_from(settings, ctx), TriggerRules(near_turn=settings.near_turn), policy,
            settings.interval_s, settings.slow_scan_s, base_url=base_url,
        )  # fmt: skip

    def run_once(self, slow: bool | None = None) -> Round:
        """One round; `slow` forces (or skips) the slow scans, else they run every slow_scan_s."""
        done = Round()
        if slow is None:
            slow = time.monotonic() - self._last_slow >= self.slow_scan_s
        if slow:
            self._last_slow = time.monotonic()
        with session_scope(self.engine) as s:
            outbox.requeue_stale(s, self.ctx, self.policy)
            done.queued = triggers.run_all(s, self.ctx, self.rules, slow)
        self._take_inbound(done)
        while True:
            with session_scope(self.engine) as s:
                claimed = outbox.claim_due(s, self.ctx, list(self.channels), self.batch, self.policy, self.base_url)
            if not claimed:
                break
            for message in claimed:
                if message.channel in done.down:  # the channel went down this round: no new attempt
                    outcome = Outcome("down", code="channel_down")
                else:
                    outcome = self.channels[message.channel].send(message)
                with session_scope(self.engine) as s:
                    outbox.record_outcome(s, self.ctx, message.outbox_id, outcome, self.policy)
                self._count(done, message.channel, outcome)
            if len(claimed) < self.batch or len(done.down) == len(self.channels):
                break
        self._take_inbound(done)
        if done.sent or done.failed or done.down:
            log.info(
                "notifications: %d sent, %d to retry, %d failed, channels down: %s",
                done.sent, done.retried, done.failed, ",".join(done.down) or "none",
            )  # fmt: skip
        return done

    @staticmethod
    def _count(done: Round, channel: str, outcome: Outcome) -> None:
        if outcome.kind == "accepted":
            done.sent += 1
        elif outcome.kind == "refused":
            done.failed += 1
        elif outcome.kind == "down":
            if channel not in done.down:
                done.down.append(channel)
        else:
            done.retried += 1

    def _take_inbound(self, done: Round) -> None:
        for channel in self.channels.values():
            for item in channel.poll():
                with session_scope(self.engine) as s:
                    if isinstance(item, Receipt):
                        outbox.record_receipt(s, self.ctx, item.message_id, item.stat)
                        done.receipts += 1
                    else:
                        result = replies.handle(s, self.ctx, item.phone, item.text)
                        log.info("SMS reply: %s (%s)", result.action, result.detail)
                        done.replies += 1

    def start(self) -> None:
        """Begin the periodic rounds."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current round and unbind."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        for channel in self.channels.values():
            channel.close()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.run_once()
            except Exception:  # a bad round must not end notifications
                log.exception("notification round failed")
