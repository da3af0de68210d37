"""City broker choice (issue 17): a single Mosquitto against a 3-node RabbitMQ 3.10 cluster on this machine.

    python -m bench.city_brokers [--n 20000] [--rate 300] [--seconds 10]

Each path is the deployment's own: a hall bridge account publishes MQTT QoS 1 to `hall/{code}/sync/up/visits`;
the ingest side is a `$share/ingest/…` MQTT 5 subscriber on Mosquitto, and an AMQP consumer of the durable
quorum queue on RabbitMQ (publisher on node 2, consumer on node 3). Measured in the same run: throughput
(N messages as fast as QoS 1 allows), latency p50/p99 at a steady rate, and the outage when a broker dies:
Mosquitto killed -9 and restarted at once (a supervisor's best case; it has no failover), a RabbitMQ node
killed -9 under the publisher (it moves to the next node). Ratios are RabbitMQ / Mosquitto.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import signal
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pika
from paho.mqtt.enums import CallbackAPIVersion

from broker.mosquitto import free_port
from city.broker import INGEST_USERNAME, CityBroker, bridge_username
from city.cluster.rabbitmq import RabbitCluster
from city.consumers.amqp import INGEST_QUEUE

CITY = "bench-city"
CODE = "0001"
PAYLOAD_PAD = "x" * 500  # a record is ~0.5-1 KiB of JSON


class Received:
    """Arrival times of the messages a consumer got, by message number."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.at: dict[int, float] = {}
        self.sent: dict[int, float] = {}

    def got(self, body: bytes) -> None:
        data = json.loads(body)
        with self.lock:
            self.at.setdefault(data["n"], time.time())
            self.sent.setdefault(data["n"], data["t"])

    def count(self, lo: int, hi: int) -> int:
        with self.lock:
            return sum(1 for n in self.at if lo <= n < hi)

    def latencies(self, lo: int, hi: int) -> list[float]:
        with self.lock:
            return sorted(self.at[n] - self.sent[n] for n in self.at if lo <= n < hi)


def mosquitto_consumer(host: str, port: int, password: str, into: Received) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-ingest", protocol=mqtt.MQTTv5)
    client.username_pw_set(INGEST_USERNAME, password)
    client.on_connect = lambda c, *_: c.subscribe("$share/ingest/hall/+/sync/up/+", qos=1)
    client.on_message = lambda c, u, m: into.got(bytes(m.payload))
    client.reconnect_delay_set(1, 1)
    client.connect(host, port)
    client.loop_start()
    return client


class AmqpConsumer(threading.Thread):
    """Consumes the quorum queue on one node (another when that one goes), acking in batches."""

    def __init__(self, urls: list[str], into: Received) -> None:
        super().__init__(daemon=True)
        self.urls, self.into, self.stop = urls, into, threading.Event()

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            try:
                conn = pika.BlockingConnection(pika.URLParameters(self.urls[i % len(self.urls)]))
                ch = conn.channel()
                ch.basic_qos(prefetch_count=1000)

                def on_message(chan: Any, method: Any, _p: Any, body: bytes) -> None:
                    self.into.got(body)
                    chan.basic_ack(method.delivery_tag)

                ch.basic_consume(INGEST_QUEUE, on_message)
                while not self.stop.is_set():
                    conn.process_data_events(time_limit=0.2)
                conn.close()
            except pika.exceptions.AMQPError:
                i += 1
                time.sleep(0.2)


def _publish(ports: list[int], password: str, start_n: int, count: int, rate: float, done: Any) -> None:
    """Publisher process: `count` messages from `start_n`, at `rate`/s (0 = as fast as QoS 1 allows); moves
    to the next port when its broker goes away."""
    state = {"i": 0, "up": threading.Event()}
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=bridge_username(CODE), protocol=mqtt.MQTTv311,
                         clean_session=False)  # fmt: skip
    client.username_pw_set(bridge_username(CODE), password)
    client.max_inflight_messages_set(200)
    client.max_queued_messages_set(0)

    def on_connect(c: Any, *_: Any) -> None:
        state["up"].set()  # type: ignore[attr-defined]

    def on_disconnect(c: Any, *_: Any) -> None:
        state["up"].clear()  # type: ignore[attr-defined]

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect

    def connect() -> None:
        while True:
            port = ports[state["i"] % len(ports)]  # type: ignore[operator]
            try:
                client.connect("127.0.0.1", port, keepalive=10)
                return
            except OSError:
                state["i"] += 1  # type: ignore[operator]
                time.sleep(0.1)

    connect()
    client.loop_start()
    state["up"].wait(30)  # type: ignore[attr-defined]
    began = time.monotonic()
    infos = []
    for k in range(count):
        if rate > 0:
            delay = began + k / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        while not state["up"].is_set():  # type: ignore[attr-defined]
            print(f"publisher: broker lost at message {k}; trying the next node", flush=True)
            client.loop_stop()
            state["i"] += 1  # type: ignore[operator]
            time.sleep(0.1)
            connect()
            client.loop_start()
            state["up"].wait(2)  # type: ignore[attr-defined]
        body = json.dumps({"n": start_n + k, "t": time.time(), "pad": PAYLOAD_PAD})
        infos.append(client.publish(f"hall/{CODE}/sync/up/visits", body, qos=1))
    for info in infos[-200:]:
        with contextlib.suppress(RuntimeError, ValueError):
            info.wait_for_publish(30)
    client.disconnect()
    client.loop_stop()
    done.put(time.monotonic() - began)


def publish(ports: list[int], password: str, start_n: int, count: int, rate: float) -> Any:
    ctx = multiprocessing.get_context("spawn")
    done = ctx.Queue()
    proc = ctx.Process(target=_publish, args=(ports, password, start_n, count, rate, done))
    proc.start()
    proc.done = done  # type: ignore[attr-defined]
    return proc


def wait_count(into: Received, lo: int, hi: int, timeout: float) -> float:
    began = time.monotonic()
    while into.count(lo, hi) < hi - lo:
        if time.monotonic() - began > timeout:
            break
        time.sleep(0.01)
    return time.monotonic() - began


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(p / 100 * len(values)))] * 1000 if values else float("nan")


def measure(name: str, ports: list[int], password: str, into: Received, n: int, rate: float, seconds: float,
            kill: Any, after_kill: Any) -> dict[str, float]:  # fmt: skip
    """Throughput, steady latency, and the outage when `kill` takes a broker (node) down."""
    out: dict[str, float] = {}
    # throughput
    proc = publish(ports, password, 0, n, 0)
    took = wait_count(into, 0, n, 300)
    proc.join(60)
    out["throughput"] = into.count(0, n) / took
    # latency at a steady rate
    base = 10_000_000
    steady = int(rate * seconds)
    proc = publish(ports, password, base, steady, rate)
    proc.join(seconds + 120)
    wait_count(into, base, base + steady, 30)
    lat = into.latencies(base, base + steady)
    out["p50_ms"], out["p99_ms"] = pct(lat, 50), pct(lat, 99)
    # outage: kill while a steady stream runs; the gap in arrival times is the outage
    base = 20_000_000
    total = int(rate * 20)
    proc = publish(ports, password, base, total, rate)
    time.sleep(5)
    killed = time.time()
    kill()
    after_kill()
    proc.join(180)
    wait_count(into, base, base + total, 60)
    with into.lock:
        window = [k for k in into.at if base <= k < base + total]
        first_new = min((into.at[k] for k in window if into.sent[k] > killed), default=None)
    out["recovery_s"] = (first_new - killed) if first_new else float("nan")
    out["lost"] = total - into.count(base, base + total)
    print(f"{name}: throughput {out['throughput']:,.0f} msg/s; latency at {rate:.0f}/s p50 {out['p50_ms']:.1f} ms, "
          f"p99 {out['p99_ms']:.1f} ms; broker/node killed: first message published after the kill delivered "
          f"{out['recovery_s']:.1f} s later; lost {out['lost']:.0f} of {total}")  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hallq-brokers-"))
    root.chmod(0o755)

    # Mosquitto
    mosq = CityBroker(CITY, [CODE], root / "secret", root / "mosquitto", free_port()).start()
    into = Received()
    consumer = mosquitto_consumer(mosq.host, mosq.port, mosq.account(INGEST_USERNAME).password, into)
    time.sleep(0.5)
    password = mosq.account(bridge_username(CODE)).password

    def kill_mosquitto() -> None:
        assert mosq.pid is not None
        os.kill(mosq.pid, signal.SIGKILL)
        mosq._proc.wait()  # type: ignore[union-attr]

    def restart_mosquitto() -> None:
        mosq._proc = None
        mosq.start()

    try:
        m = measure("single Mosquitto", [mosq.port], password, into, args.n, args.rate, args.seconds,
                    kill_mosquitto, restart_mosquitto)  # fmt: skip
    finally:
        consumer.disconnect()
        consumer.loop_stop()
        mosq.stop()

    # RabbitMQ cluster
    cluster = RabbitCluster(root / "rabbit", CITY, [CODE], root / "secret")
    began = time.monotonic()
    cluster.start()
    print(f"3-node RabbitMQ cluster up in {time.monotonic() - began:.0f} s")
    into = Received()
    amqp = AmqpConsumer([cluster.amqp_urls[2], cluster.amqp_urls[0]], into)
    amqp.start()
    time.sleep(1)
    try:
        ports = [cluster.mqtt_ports[1], cluster.mqtt_ports[0], cluster.mqtt_ports[2]]
        r = measure("3-node RabbitMQ", ports, password, into, args.n, args.rate, args.seconds,
                    lambda: cluster.kill(2), lambda: None)  # fmt: skip
    finally:
        amqp.stop.set()
        amqp.join(5)
        cluster.stop()
    print(f"ratios RabbitMQ / Mosquitto: throughput {r['throughput'] / m['throughput']:.2f}, p50 "
          f"{r['p50_ms'] / m['p50_ms']:.1f}, p99 {r['p99_ms'] / m['p99_ms']:.1f}, outage "
          f"{r['recovery_s'] / m['recovery_s']:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
