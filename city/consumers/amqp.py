"""RabbitMQ consumer for the clustered city broker: the halls' bridges publish over MQTT to any node, RabbitMQ
routes `hall/{code}/sync/up/{stream}` (routing key `hall.{code}.sync.up.{stream}`) from `amq.topic` into one
durable **quorum** queue replicated on every node, and the ingest workers compete for it over AMQP 0-9-1.

A delivery is acknowledged to RabbitMQ only after the batch committed (`settle`); a worker or node that dies
leaves its unacknowledged deliveries to the queue, which hands them to another worker (the store keeps each
(hall, seq) once). Acks to halls go to `amq.topic` with routing key `hall.{code}.sync.ack`, which RabbitMQ's
MQTT plugin delivers to the bridge's subscription `hall/{code}/sync/ack`. The consumer knows every node's
URL and moves to the next when its node goes away.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import deque
from datetime import datetime
from typing import Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from broker.topics import sync_ack
from city.consumers.base import Consumer, Delivery
from city.settings import CitySettings
from city.store import Incoming
from hallcore.sync import Ack

log = logging.getLogger("city.consumers.amqp")

INGEST_QUEUE = "city.ingest"
INGEST_BINDING = "hall.*.sync.up.*"
QUEUE_ARGUMENTS = {"x-queue-type": "quorum"}
FAILURES = (pika.exceptions.AMQPError, OSError)


def node_urls(value: str) -> list[str]:
    """The node URLs of `HALLQ_CITY_AMQP_URL` (one, or several separated by commas or spaces)."""
    return [u for u in value.replace(",", " ").split() if u]


def to_topic(routing_key: str) -> str:
    """The MQTT topic of an AMQP routing key (RabbitMQ maps `/` to `.`; codes and streams have no dots)."""
    return routing_key.replace(".", "/")


def to_routing_key(topic: str) -> str:
    """The AMQP routing key of an MQTT topic."""
    return topic.replace("/", ".")


class AmqpConsumer(Consumer):
    """One ingest worker's AMQP connection to the cluster (any node; the next one when it fails)."""

    def __init__(self, settings: CitySettings, worker: int, queue: str = INGEST_QUEUE) -> None:
        urls = node_urls(settings.amqp_url.get_secret_value() if settings.amqp_url else "")
        if not urls:
            raise ValueError("consumer amqp 需要 HALLQ_CITY_AMQP_URL：集群各节点的 amqp:// 地址，以逗号分隔")
        self.worker = worker
        self.urls = urls[worker % len(urls) :] + urls[: worker % len(urls)]  # spread workers over the nodes
        self.prefetch = settings.receive_maximum
        self.queue = queue
        self._next = 0
        self._conn: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._inbox: deque[tuple[int, str, bytes]] = deque()

    @property
    def connected(self) -> bool:
        return self._conn is not None and self._conn.is_open and self._channel is not None and self._channel.is_open

    def connect(self, timeout: float = 120.0) -> None:
        """Connect to the first node that answers; declare (idempotently) the quorum queue and its binding."""
        deadline = time.monotonic() + timeout
        while True:
            url = self.urls[self._next % len(self.urls)]
            self._next += 1
            try:
                self._open(url)
                return
            except FAILURES as exc:
                self._drop()
                if time.monotonic() > deadline:
                    raise ConnectionError(f"无法连接市级消息集群的任何节点：{exc!r}") from exc
                log.warning("city cluster node %s unavailable (%r); trying the next", _safe(url), exc)
                time.sleep(0.5)

    def _open(self, url: str) -> None:
        params = pika.URLParameters(url)
        params.heartbeat = 10
        params.blocked_connection_timeout = 30
        params.socket_timeout = 5
        params.connection_attempts = 1
        self._conn = pika.BlockingConnection(params)
        channel = self._conn.channel()
        try:
            channel.queue_declare(self.queue, durable=True, arguments=QUEUE_ARGUMENTS)
            channel.queue_bind(self.queue, "amq.topic", routing_key=INGEST_BINDING)
        except pika.exceptions.ChannelClosed as exc:
            # The cluster's definitions declare the queue and its binding already; while a node is away the
            # declaration may be refused, and consuming the existing queue is all the worker needs.
            log.warning("could not (re)declare %s (%r); consuming the existing queue", self.queue, exc)
            channel = self._conn.channel()
        channel.basic_qos(prefetch_count=self.prefetch)
        channel.basic_consume(self.queue, self._on_message, auto_ack=False)
        self._channel = channel
        self._inbox.clear()  # deliveries of an old channel are redelivered to whoever holds the queue now
        log.info("ingest consuming %s on %s", self.queue, _safe(url))

    def _on_message(self, _ch: Any, method: Any, _props: Any, body: bytes) -> None:
        self._inbox.append((method.delivery_tag, method.routing_key, body))

    def _drop(self) -> None:
        conn, self._conn, self._channel = self._conn, None, None
        self._inbox.clear()
        if conn is not None and conn.is_open:
            with contextlib.suppress(*FAILURES):
                conn.close()

    def _reconnect(self, exc: BaseException) -> None:
        log.warning("lost the city cluster connection (%r); reconnecting", exc)
        self._drop()
        self.connect()

    def take(self, max_n: int, max_wait_s: float) -> list[Delivery]:
        deadline = time.monotonic() + max_wait_s
        try:
            if not self.connected:
                self._reconnect(ConnectionError("not connected"))
            assert self._conn is not None
            while not self._inbox and time.monotonic() < deadline:
                self._conn.process_data_events(time_limit=max(0.0, min(0.05, deadline - time.monotonic())))
            if self._inbox:
                self._conn.process_data_events(time_limit=0)  # what is already buffered, without waiting
        except FAILURES as exc:
            self._reconnect(exc)
            return []
        batch: list[Delivery] = []
        while self._inbox and len(batch) < max_n:
            tag, key, body = self._inbox.popleft()
            batch.append(Delivery(Incoming(to_topic(key), body), (self._channel, tag)))
        return batch

    def settle(self, deliveries: list[Delivery]) -> None:
        """Ack the batch to RabbitMQ; a channel that died meanwhile gets them redelivered (stored once)."""
        if not deliveries:
            return
        channel, tag = max((d.handle for d in deliveries), key=lambda h: h[1])
        if channel is not self._channel or channel is None:
            return
        try:
            channel.basic_ack(delivery_tag=tag, multiple=True)
        except FAILURES as exc:
            self._reconnect(exc)

    def acknowledge(self, hall: str, upto: int, ts: datetime) -> None:
        body = Ack(upto=upto, ts=ts).model_dump_json().encode("utf-8")
        props = pika.BasicProperties(content_type="application/json", delivery_mode=2)
        for _ in range(2):
            try:
                if not self.connected:
                    self._reconnect(ConnectionError("not connected"))
                assert self._channel is not None
                self._channel.basic_publish("amq.topic", to_routing_key(sync_ack(hall)), body, props)
                return
            except FAILURES as exc:
                self._reconnect(exc)
        log.warning("ack for hall %s (upto %d) not sent; the hall resends and is acknowledged again", hall, upto)

    def close(self) -> None:
        self._drop()


def _safe(url: str) -> str:
    """A node URL without its password, for logs."""
    params = pika.URLParameters(url)
    return f"{params.host}:{params.port}"
