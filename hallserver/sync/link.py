"""The publisher: outbox rows → `hall/{hall}/sync/up/{stream}` on the hall's own broker (the bridge carries
them to the city), in seq order, at a bounded rate and with a bounded number in flight; the city's
`sync/ack` prunes them; rows unacknowledged after the resend timeout go again. The bridge's state comes
from Mosquitto's `notifications` topic: while it is down nothing is sent (the hall keeps serving; records
wait in the outbox), and when it comes back everything unacknowledged goes again (the city stores each
(hall, seq) once)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from pydantic import ValidationError
from sqlalchemy import Engine

from broker.mosquitto import bridge_name
from broker.topics import bridge_state, sync_ack, sync_up
from firmware_config.hall import CityLink
from hallcore.sync import Ack
from hallserver.db import session_scope
from hallserver.services.context import HallContext
from hallserver.sync import outbox

log = logging.getLogger("hallq.sync")

TICK_S = 1.0  # how often the publisher looks at the outbox when nothing wakes it
BATCH = 500  # rows read per round


class LinkState(StrEnum):
    """The bridge to the city as Mosquitto reports it."""

    up = "up"
    down = "down"
    unknown = "unknown"  # no notification yet (the broker just started, or runs without the bridge)


@dataclass(frozen=True)
class BrokerLogin:
    """How the publisher reaches the hall's broker (as the server account)."""

    host: str
    port: int
    username: str
    password: str
    ca_file: Path | None = None


class Publisher:
    """Publishes the outbox and handles acks on its own connection and thread."""

    def __init__(
        self, ctx: HallContext, engine: Engine, link: CityLink, login: BrokerLogin, wake: threading.Event
    ) -> None:
        assert ctx.profile.hall.code is not None
        self.ctx, self.engine, self.link, self.login = ctx, engine, link, login
        self.hall_id, self.code = ctx.profile.hall.id, ctx.profile.hall.code
        self.wake = wake
        self.state = LinkState.unknown
        self.state_since: datetime | None = None
        self.last_ack_at: datetime | None = None
        self.published = 0
        self._acks: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._resend = False
        self._connected = threading.Event()
        self._stop = threading.Event()
        self._tokens = float(link.max_rate)
        self._refilled = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="hallq-city-link", daemon=True)
        self._state_topic = bridge_state(bridge_name(ctx.profile))
        self._ack_topic = sync_ack(self.hall_id)
        self.client = self._client()

    @property
    def connected(self) -> bool:
        """Whether the publisher is connected to the hall's broker."""
        return self._connected.is_set()

    @property
    def resend_after(self) -> timedelta:
        """How long a sent row waits for its ack before it goes again."""
        return timedelta(seconds=self.link.resend_after_s)

    def _client(self) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"hallserver-{self.hall_id}-city", protocol=mqtt.MQTTv5
        )
        client.username_pw_set(self.login.username, self.login.password)
        if self.login.ca_file:
            client.tls_set(ca_certs=str(self.login.ca_file))
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        client.max_inflight_messages_set(100)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def start(self) -> None:
        """Connect in the background and start publishing."""
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 24 * 3600  # acks that arrive while we reconnect wait for us
        self.client.connect_async(self.login.host, self.login.port, keepalive=30, clean_start=False, properties=props)
        self.client.loop_start()
        self._thread.start()

    def stop(self) -> None:
        """Stop publishing and disconnect."""
        self._stop.set()
        self.wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.client.disconnect()
        self.client.loop_stop()

    # --- MQTT callbacks (network thread: hand work to the publisher's thread) ---

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("city link: the hall broker refused the server (%s)", reason)
            return
        client.subscribe([(self._ack_topic, 1), (self._state_topic, 1)])
        self._connected.set()
        self.wake.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self._connected.clear()
        if not self._stop.is_set():
            log.warning("city link: lost the hall broker (%s); records wait in the outbox", reason)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.topic == self._state_topic:
            self._on_state(bytes(msg.payload))
        elif msg.topic == self._ack_topic:
            try:
                ack = Ack.model_validate_json(msg.payload)
            except ValidationError:
                log.warning("city link: malformed ack dropped")
                return
            self._acks.put(ack.upto)
            self.wake.set()

    def _on_state(self, payload: bytes) -> None:
        state = {b"1": LinkState.up, b"0": LinkState.down}.get(payload.strip(), LinkState.unknown)
        if state == self.state:
            return
        if state == LinkState.up and self.state == LinkState.down:
            self._resend = True  # what the bridge held may be gone: send everything unacknowledged again
        self.state, self.state_since = state, self.ctx.now()
        log.info("city link: bridge to the city is %s", state.value)
        self.wake.set()

    # --- the publisher's thread ---

    def _loop(self) -> None:
        while not self._stop.is_set():
            more = False
            try:
                self._apply_acks()
                more = self.publish_due()
            except Exception:  # the database is busy or gone: try again next round, never die
                log.exception("city link: publishing round failed")
            if not more:
                self.wake.wait(TICK_S)
                self.wake.clear()
            else:
                self._stop.wait(0.02)

    def _apply_acks(self) -> None:
        acks = []
        while not self._acks.empty():
            acks.append(self._acks.get())
        if not acks:
            return
        now = self.ctx.now()
        with session_scope(self.engine) as s:
            last = outbox.backlog_state(s).last_seq
            wrong = [u for u in acks if u > last]
            if wrong:  # a confused or foreign city: it cannot hold records the hall never wrote
                log.error("city link: ack upto %d beyond the last seq %d ignored", max(wrong), last)
            good = [u for u in acks if u <= last]
            if not good:
                return
            pruned = outbox.acknowledge(s, max(good), now)
        self.last_ack_at = now
        log.debug("city link: ack upto %d pruned %d", max(good), pruned)

    def publish_due(self) -> bool:
        """One round: send what is due within the rate and in-flight bounds; True when more is waiting."""
        if not self.connected or self.state == LinkState.down:
            return False
        now = self.ctx.now()
        with session_scope(self.engine) as s:
            if self._resend:
                self._resend = False
                outbox.resend_all(s)
            room = self.link.max_in_flight - outbox.in_flight(s, now, self.resend_after)
            limit = min(BATCH, room, int(self._refill()))
            rows = outbox.due(s, now, self.resend_after, limit)
            for row in rows:
                self.client.publish(
                    sync_up(self.hall_id, row.stream), outbox.message(row, self.code, self.ctx.calendar.zone), qos=1
                )
            outbox.mark_sent(s, [r.seq for r in rows], now)
        self._tokens -= len(rows)
        self.published += len(rows)
        return len(rows) > 0 and len(rows) == limit

    def _refill(self) -> float:
        now = time.monotonic()
        rate = self.link.max_rate
        self._tokens = min(float(rate), self._tokens + (now - self._refilled) * rate)
        self._refilled = now
        return self._tokens
