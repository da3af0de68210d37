"""Mosquitto consumer: an MQTT 5 shared subscription `$share/ingest/hall/+/sync/up/+`, QoS 1, a persistent
session (clean_start false + session expiry, a stable client id per worker) and manual PUBACKs sent only
after the batch committed, so a worker restart loses nothing."""

from __future__ import annotations

import logging
import queue
import threading
import time
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from broker.topics import sync_ack, sync_up_shared
from city.consumers.base import Consumer, Delivery
from city.settings import CitySettings
from city.store import Incoming
from hallcore.sync import Ack

log = logging.getLogger("city.consumers.mqtt")


class MqttConsumer(Consumer):
    """One ingest worker's MQTT session on the city broker."""

    threadsafe_acks = True  # paho's publish takes its own lock

    def __init__(self, settings: CitySettings, worker: int) -> None:
        self.settings = settings
        self.client_id = f"{settings.client_id_prefix}-{worker}"
        self.filter = sync_up_shared(settings.share_group)
        self.inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._up = threading.Event()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5, manual_ack=True
        )
        password = settings.broker_password.get_secret_value() if settings.broker_password else None
        self.client.username_pw_set(settings.broker_username, password)
        if settings.broker_ca_file is not None:
            self.client.tls_set(ca_certs=str(settings.broker_ca_file))
        self.client.reconnect_delay_set(1, 5)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("city broker refused %s: %s", self.client_id, reason)
            return
        self._up.set()
        # Subscribing again on a present session is harmless and covers a broker that lost it.
        client.subscribe(self.filter, qos=1)
        log.info("%s connected (session present: %s)", self.client_id, flags.session_present)

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self._up.clear()
        log.warning("%s disconnected from the city broker: %s", self.client_id, reason)

    def _on_subscribe(self, _c: Any, _u: Any, _mid: int, reasons: Any, _p: Any) -> None:
        if any(r.is_failure for r in reasons):
            log.error("city broker refused the subscription %s: %s", self.filter, reasons)
            return
        self._subscribed.set()

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self.inbox.put(msg)

    @property
    def connected(self) -> bool:
        return self._up.is_set()

    def wait_subscribed(self, timeout: float) -> bool:
        """Whether the broker granted the shared subscription within `timeout` seconds."""
        return self._subscribed.wait(timeout)

    def connect(self, timeout: float = 10.0) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.settings.session_expiry_s
        props.ReceiveMaximum = self.settings.receive_maximum
        self.client.connect_async(
            self.settings.broker_host, self.settings.broker_port, keepalive=30, clean_start=False, properties=props
        )
        self.client.loop_start()
        if not self._subscribed.wait(timeout):
            log.warning("%s not subscribed after %.0f s; still trying", self.client_id, timeout)

    def take(self, max_n: int, max_wait_s: float) -> list[Delivery]:
        # Wait up to max_wait_s to fill a batch: every batch is a commit (an fsync), so fewer, fuller batches
        # win. The broker sends at most its inflight limit before our PUBACKs: keep that ≥ batch_size.
        try:
            first = self.inbox.get(timeout=max_wait_s)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + max_wait_s
        while len(batch) < max_n:
            left = deadline - time.monotonic()
            try:
                batch.append(self.inbox.get(timeout=left) if left > 0 else self.inbox.get_nowait())
            except queue.Empty:
                break
        return [Delivery(Incoming(m.topic, bytes(m.payload)), (m.mid, m.qos)) for m in batch]

    def settle(self, deliveries: list[Delivery]) -> None:
        for d in deliveries:
            mid, qos = d.handle
            if qos > 0:
                self.client.ack(mid, qos)

    def acknowledge(self, hall: str, upto: int, ts: datetime) -> None:
        payload = Ack(upto=upto, ts=ts).model_dump_json()
        self.client.publish(sync_ack(hall), payload, qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
