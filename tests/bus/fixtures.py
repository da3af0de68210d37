"""Bus fixtures: a real Mosquitto for the demo hall (plain and TLS) and a blocking MQTT 5 probe client.
Registered for every test folder by `pytest_plugins` in tests/conftest.py."""

from __future__ import annotations

import queue
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from broker.client import BusSettings
from broker.mosquitto import BrokerError, BrokerProcess, find_mosquitto, free_port, render
from broker.tls import provision_tls
from broker.topics import Topics
from firmware_config.credentials import Account, device_account, server_account
from firmware_config.devices import DeviceSet, load_devices
from firmware_config.hall import HallProfile, load_hall_profile

DEMO_HALL = Path(__file__).resolve().parents[2] / "firmware_config" / "halls" / "demo"
TIMEOUT = 5.0


class HallBroker(BrokerProcess):
    """A running broker for one hall, plus what tests need to log in to it."""

    def __init__(self, hall: HallProfile, devices: DeviceSet, secret_dir: Path, **render_args: Any) -> None:
        self.hall = hall
        self.devices = devices
        self.secret_dir = secret_dir
        self.topics = Topics(hall.hall.id)
        super().__init__(render(hall, devices, secret_dir, **render_args))

    @property
    def cafile(self) -> Path | None:
        """The CA certificate clients trust for the TLS listener."""
        return self.files.tls.cafile if self.files.tls else None

    def server_account(self) -> Account:
        """The hall server's login."""
        return server_account(self.secret_dir)

    def account(self, device_id: str) -> Account:
        """A device's login (the device must be in devices.yaml to be accepted)."""
        return device_account(self.secret_dir, device_id)

    def bus_settings(self, client_id: str, account: Account | None = None, **changes: Any) -> BusSettings:
        """How `client_id` reaches this broker: as the device of that id, or with the given account (the
        server's, say); `changes` set other fields (session_expiry_s, ...)."""
        login = account or self.account(client_id)
        return BusSettings(
            self.hall.hall.id, client_id, login.username, login.password, self.host, self.port, **changes
        )


class Probe:
    """A blocking MQTT 5 test client: each call waits for the broker's answer and returns its reason code."""

    def __init__(
        self,
        broker: HallBroker,
        username: str | None,
        password: str | None,
        client_id: str = "",
        tls: bool = False,
        cafile: Path | None = None,
        session_expiry: int = 0,
    ) -> None:
        self.broker = broker
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if username is not None:
            self.client.username_pw_set(username, password)
        self.tls = tls
        if tls:
            self.client.tls_set(ca_certs=str(cafile) if cafile else None)
        self.session_expiry = session_expiry
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.session_present: bool | None = None
        self._acks: dict[int, tuple[threading.Event, list[int]]] = {}
        self._connack = threading.Event()
        self._connack_code: int | None = None
        self._lock = threading.Lock()
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = lambda _c, _u, msg: self.messages.put(msg)

    def _on_connect(self, _c: Any, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        if self._connack_code is None:
            self._connack_code = int(reason.value)
            self.session_present = bool(flags.session_present)
        self._connack.set()
        if reason.is_failure:
            self.client.disconnect()

    def _ack(self, mid: int, codes: list[int]) -> None:
        with self._lock:
            waiter = self._acks.setdefault(mid, (threading.Event(), []))
        waiter[1].extend(codes)
        waiter[0].set()

    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        self._ack(mid, [int(reason.value)])

    def _on_subscribe(self, _c: Any, _u: Any, mid: int, reasons: Any, _p: Any) -> None:
        self._ack(mid, [int(r.value) for r in reasons])

    def _wait(self, mid: int) -> list[int]:
        with self._lock:
            waiter = self._acks.setdefault(mid, (threading.Event(), []))
        assert waiter[0].wait(TIMEOUT), f"no acknowledgement for message id {mid}"
        return waiter[1]

    def connect(self, clean_start: bool = True) -> int:
        """Connect and return the CONNACK reason code (0 = accepted)."""
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.session_expiry
        port = self.broker.tls_port if self.tls else self.broker.port
        assert port is not None, "this broker has no TLS listener"
        self._connack.clear()
        self._connack_code = None
        self.client.connect(self.broker.host, port, keepalive=30, clean_start=clean_start, properties=props)
        self.client.loop_start()
        assert self._connack.wait(TIMEOUT), "no CONNACK"
        assert self._connack_code is not None
        return self._connack_code

    def publish(self, topic: str, payload: str | bytes = b"{}", qos: int = 1, retain: bool = False) -> int:
        """Publish and return the PUBACK reason code (0 ok, 16 no subscribers, 135 not authorized)."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        return self._wait(info.mid)[0]

    def subscribe(self, topic: str, qos: int = 1) -> int:
        """Subscribe and return the SUBACK reason code (granted QoS, or 135 not authorized)."""
        _rc, mid = self.client.subscribe(topic, qos=qos)
        assert mid is not None
        return self._wait(mid)[0]

    def expect(self, topic: str, timeout: float = TIMEOUT) -> mqtt.MQTTMessage:
        """The next message on `topic`, failing after `timeout` seconds."""
        while True:
            try:
                msg = self.messages.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no message on {topic} within {timeout} s") from None
            if msg.topic == topic:
                return msg

    def close(self) -> None:
        """Disconnect cleanly and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()


def _require_mosquitto() -> None:
    try:
        find_mosquitto()
    except BrokerError:
        pytest.fail("mosquitto is not installed: run make setup (installs Debian's mosquitto)", pytrace=False)


def _demo() -> tuple[HallProfile, DeviceSet]:
    hall = load_hall_profile(DEMO_HALL / "hall.yaml")
    return hall, load_devices(DEMO_HALL / "devices.yaml", hall)


@pytest.fixture
def broker_dir() -> Iterator[Path]:
    """A broker output folder the `mosquitto` user can reach (pytest's tmp_path is 0700 under root)."""
    folder = Path(tempfile.mkdtemp(prefix="hallq-broker-"))
    folder.chmod(0o711)
    yield folder
    shutil.copytree(folder, "/tmp/brokerlog", dirs_exist_ok=True) if __import__("os").environ.get(
        "KEEP_BROKER"
    ) else None
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def broker(tmp_path: Path, broker_dir: Path) -> Iterator[HallBroker]:
    """The demo hall's broker on a free loopback port, started; attributes hall, devices, secret_dir."""
    _require_mosquitto()
    hall, devices = _demo()
    with HallBroker(hall, devices, tmp_path / "secret", out_dir=broker_dir, port=free_port()) as running:
        yield running


@pytest.fixture
def tls_broker(tmp_path: Path, broker_dir: Path) -> Iterator[HallBroker]:
    """As `broker`, with a TLS listener too (CA in `tls_broker.cafile`, port `tls_broker.tls_port`)."""
    _require_mosquitto()
    hall, devices = _demo()
    secret = tmp_path / "secret"
    tls = provision_tls(secret / "tls")
    with HallBroker(
        hall, devices, secret, out_dir=broker_dir, port=free_port(), tls=tls, tls_port=free_port()
    ) as running:
        yield running


@pytest.fixture
def probe() -> Iterator[Callable[..., Probe]]:
    """Factory: probe(broker, username, password=None, **opts) → a connected Probe, closed after the test."""
    made: list[Probe] = []

    def connect(broker: HallBroker, username: str, password: str | None = None, **opts: Any) -> Probe:
        if password is None:
            account = broker.server_account() if username == "hallserver" else broker.account(username)
            password = account.password
        if username != "hallserver":
            opts.setdefault("client_id", username)  # devices are bound to their own client id
        client = Probe(broker, username, password, **opts)
        made.append(client)
        code = client.connect()
        assert code == 0, f"{username} refused with CONNACK {code}"
        return client

    yield connect
    for client in made:
        client.close()
