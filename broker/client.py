"""The bus client every device and the server use: paho-mqtt 2.x over MQTT 5 with last will and birth,
clean offline on shutdown, reconnect with backoff, persistent sessions, and request/response."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from broker.messages import Message, Reply, Request
from broker.topics import Topics

log = logging.getLogger("hallq.bus")
Handler = Callable[[str, bytes], None]


class BusTimeout(TimeoutError):
    """No answer from the server after every retry."""


@dataclass(frozen=True)
class BusSettings:
    """How to reach the broker and who we are on it."""

    hall: str
    client_id: str
    username: str
    password: str
    host: str = "127.0.0.1"
    port: int = 1883
    ca_file: Path | None = None
    keepalive: int = 30
    session_expiry_s: int = 24 * 3600  # persistent session: QoS 1 messages wait for us this long
    timezone: str = "Asia/Shanghai"


class BusClient:
    """One MQTT connection with an availability topic: online when connected, offline otherwise."""

    def __init__(
        self,
        settings: BusSettings,
        availability_topic: str,
        availability: Callable[[str], Message],
    ) -> None:
        self.settings = settings
        self.topics = Topics(settings.hall)
        self.zone = ZoneInfo(settings.timezone)
        self._availability_topic = availability_topic
        self._availability = availability
        self._handlers: list[tuple[str, Handler]] = []
        self._on_connected: list[Callable[[], None]] = []
        self._connected = threading.Event()
        self._stopping = False
        self._unacked: set[int] = set()
        self._lock = threading.Lock()
        self._pending: dict[str, tuple[threading.Event, list[Reply]]] = {}
        self._device_id: str | None = None
        self.mqtt = self._make_client()

    def _make_client(self) -> mqtt.Client:
        s = self.settings
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=s.client_id, protocol=mqtt.MQTTv5)
        client.username_pw_set(s.username, s.password)
        if s.ca_file:
            client.tls_set(ca_certs=str(s.ca_file))
        client.will_set(self._availability_topic, self._availability("offline").to_json(), qos=1, retain=True)
        # Retry every second, never backing off further: a device is back within ~1 s of the broker's return
        # (a doubling backoff capped at 30 s left printers away for 15 s). A refused connect costs nothing.
        client.reconnect_delay_set(min_delay=1, max_delay=1)
        client.max_queued_messages_set(0)  # queue everything while the broker is away
        client.on_socket_open = _no_delay
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def now(self) -> datetime:
        """The current time in the hall's zone, for message timestamps."""
        return datetime.now(self.zone)

    # --- connection ---

    def start(self, wait_s: float = 10.0) -> None:
        """Connect in the background (reconnecting for ever) and wait for the first connection."""
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.settings.session_expiry_s
        self.mqtt.connect_async(
            self.settings.host,
            self.settings.port,
            keepalive=self.settings.keepalive,
            clean_start=False,
            properties=props,
        )
        self.mqtt.loop_start()
        if not self._connected.wait(wait_s):
            log.warning(
                "bus: not connected to %s:%s yet; retrying in the background",
                self.settings.host,
                self.settings.port,
            )

    def stop(self) -> None:
        """Clean shutdown: say offline (retained), then disconnect."""
        self._stopping = True
        if self._connected.is_set():
            info = self.mqtt.publish(
                self._availability_topic, self._availability("offline").to_json(), qos=1, retain=True
            )
            info.wait_for_publish(timeout=3)
        self.mqtt.disconnect()
        self.mqtt.loop_stop()

    @property
    def connected(self) -> bool:
        """True while a connection to the broker is up."""
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        """Block until connected or the timeout passes."""
        return self._connected.wait(timeout)

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        if reason.is_failure:
            log.error("bus: connection refused: %s", reason)
            return
        # "Connected" means listening: wait for every SUBACK before saying online or running callbacks.
        with self._lock:
            self._unacked = {int(client.subscribe(f, qos=1)[1] or 0) for f, _ in self._handlers}
        if not self._unacked:
            self._ready(client)

    def _on_subscribe(self, client: mqtt.Client, _u: Any, mid: int, _codes: Any, _p: Any) -> None:
        with self._lock:
            if mid not in self._unacked:
                return
            self._unacked.discard(mid)
            done = not self._unacked
        if done:
            self._ready(client)

    def _ready(self, client: mqtt.Client) -> None:
        client.publish(self._availability_topic, self._availability("online").to_json(), qos=1, retain=True)
        self._connected.set()
        log.info("bus: connected as %s", self.settings.username)
        for callback in self._on_connected:
            callback()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        self._connected.clear()
        if self._stopping:
            log.info("bus: disconnected")
        else:
            log.warning("bus: connection lost (%s); reconnecting with backoff", reason)

    # --- publish / subscribe ---

    def publish(
        self,
        topic: str,
        message: Message | None,
        retain: bool = False,
        qos: int = 1,
        expiry_s: int | None = None,
    ) -> mqtt.MQTTMessageInfo:
        """Publish a payload (None publishes an empty message, which clears a retained topic)."""
        props = None
        if expiry_s is not None:
            props = Properties(PacketTypes.PUBLISH)
            props.MessageExpiryInterval = max(1, expiry_s)
        payload = message.to_json() if message is not None else b""
        return self.mqtt.publish(topic, payload, qos=qos, retain=retain, properties=props)

    def when_connected(self, callback: Callable[[], None]) -> None:
        """Run callback (on the network thread: keep it short) after every connection, first and later."""
        self._on_connected.append(callback)

    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        """Call handler(topic, payload) for every message on the filter (kept across reconnects)."""
        self._handlers.append((topic_filter, handler))
        if self._connected.is_set():
            self.mqtt.subscribe(topic_filter, qos=1)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        for topic_filter, handler in self._handlers:
            if mqtt.topic_matches_sub(topic_filter, msg.topic):
                try:
                    handler(msg.topic, bytes(msg.payload))
                except Exception:  # a handler bug must not kill the network loop
                    log.exception("bus: handler for %s failed", msg.topic)

    # --- request / response (devices) ---

    def enable_replies(self, device_id: str) -> None:
        """Listen on this device's reply topic so request() can match answers."""
        self._device_id = device_id
        self.subscribe(self.topics.device(device_id, "reply"), self._on_reply)

    def _on_reply(self, _topic: str, payload: bytes) -> None:
        try:
            reply = Reply.model_validate_json(payload)
        except ValueError:
            log.warning("bus: malformed reply dropped")
            return
        with self._lock:
            waiter = self._pending.get(reply.request_id)
        if waiter is not None:
            waiter[1].append(reply)
            waiter[0].set()

    def request(self, action: str, request: Request, timeout_s: float = 5.0, attempts: int = 3) -> Reply:
        """Send a request under this device's own request topic (contract v2: the topic proves the sender)
        and wait for its reply; retries reuse the same request_id, so the server answers it once (a
        retried ticket.issue never makes a second ticket)."""
        topic = self.topics.request(self._device_id or self.settings.username, action)
        done = threading.Event()
        replies: list[Reply] = []
        with self._lock:
            self._pending[request.request_id] = (done, replies)
        try:
            for _ in range(attempts):
                self.publish(topic, request)
                if done.wait(timeout_s):
                    return replies[0]
            raise BusTimeout(f"no reply to {action} {request.request_id} after {attempts} attempts")
        finally:
            with self._lock:
                self._pending.pop(request.request_id, None)


def _no_delay(_client: mqtt.Client, _userdata: Any, sock: Any) -> None:
    # Requests and replies are small packets in quick succession: without TCP_NODELAY, Nagle's
    # algorithm waits for the peer's delayed ACK and adds ~40 ms to every round trip.
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def decode(payload: bytes) -> dict[str, Any] | None:
    """A JSON object from a payload, or None when it is not one."""
    try:
        value = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):  # deep nesting is bad input too
        return None
    return value if isinstance(value, dict) else None
