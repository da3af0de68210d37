"""Reconnection after a broker restart (not a test: prints numbers): the time from the broker listening
again to each device being back online — hallq's bus clients (a kiosk, displays, a caller, an evaluator and
a real printer agent) next to a bare paho client with paho's default backoff, in the same run.

    python -m bench.reconnect [--restarts 8] [--down 0.5,2,5,10]

A device is back when its availability says online again (after every SUBACK, so it is listening); the bare
client when its CONNACK arrives. The broker is down for each of the `--down` seconds in turn: the longer it
is away, the further an exponential backoff has grown by the time it returns.
"""

from __future__ import annotations

import argparse
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench.loopback import LoopbackHall, loopback_hall
from bench.ticket_core import pct
from broker.client import BusClient, BusSettings
from broker.messages import DeviceAvailability
from broker.topics import Topics
from firmware_config.credentials import device_account
from firmware_config.devices import BUS_KIND, PrinterProfile, SimulatorConnection

ZONE = ZoneInfo("Asia/Shanghai")
TOPICS = Topics("demo")
DEVICES = ("kiosk-01", "display-w01", "display-w02", "caller-w01", "eval-w02")
PRINTER = "printer-kiosk-01"
BARE = "eval-w01"  # the bare paho client logs in as this device


class Arrivals:
    """When each client was last (re)connected, on the perf_counter clock."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.cond = threading.Condition()

    def mark(self, name: str) -> None:
        with self.cond:
            self.at[name] = time.perf_counter()
            self.cond.notify_all()

    def wait_all(self, names: list[str], after: float, timeout: float) -> dict[str, float]:
        """Seconds from `after` to each client's reconnection (missing: did not come back in time)."""
        with self.cond:
            self.cond.wait_for(lambda: all(self.at.get(n, 0) > after for n in names), timeout)
            return {n: self.at[n] - after for n in names if self.at.get(n, 0) > after}


def bus_device(lb: LoopbackHall, device: str, arrivals: Arrivals) -> BusClient:
    """One hallq device client that marks its arrival each time it is online again."""
    account = device_account(lb.secret, device)
    kind = BUS_KIND[lb.devices.get(device).type]
    client = BusClient(
        BusSettings("demo", device, account.username, account.password, lb.broker.host, lb.broker.port),
        TOPICS.device(device, "availability"),
        lambda s: DeviceAvailability(ts=datetime.now(ZONE), state=s, kind=kind, version="bench"),
    )
    client.subscribe(TOPICS.call(), lambda _t, _p: None)
    client.when_connected(lambda: arrivals.mark(device))
    client.start()
    return client


def bare_client(lb: LoopbackHall, arrivals: Arrivals) -> mqtt.Client:
    """A paho client as a device maker would write it: MQTT 5, default reconnect backoff (1 s doubling to
    120 s), persistent session."""
    account = device_account(lb.secret, BARE)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=BARE, protocol=mqtt.MQTTv5)
    client.username_pw_set(account.username, account.password)

    def on_connect(_c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if not reason.is_failure:
            arrivals.mark("bare paho")

    client.on_connect = on_connect
    client.connect_async(lb.broker.host, lb.broker.port, keepalive=30, clean_start=False)
    client.loop_start()
    return client


def printer_agent(lb: LoopbackHall, arrivals: Arrivals) -> Any:
    """The real printer agent, on its own in-process printer simulator."""
    from kiosk.printer.agent import PrinterAgent

    profile = lb.devices.get(PRINTER)
    assert isinstance(profile, PrinterProfile)
    profile = profile.model_copy(update={"connection": SimulatorConnection(type="simulator", port=0)})
    account = device_account(lb.secret, PRINTER)
    settings = BusSettings("demo", PRINTER, account.username, account.password, lb.broker.host, lb.broker.port)
    agent = PrinterAgent(profile, settings, lb.root / "printer", status_timeout_s=0.5)
    agent.bus.when_connected(lambda: arrivals.mark(PRINTER))
    agent.start()
    return agent


def line(name: str, samples: list[float], missing: int) -> str:
    """One printed line of percentiles (milliseconds)."""
    if not samples:
        return f"{name:<20} never came back ({missing} restarts)"
    late = f"  not back within the timeout: {missing}" if missing else ""
    return (
        f"{name:<20} n={len(samples):3d}  p50={pct(samples, 50):7.0f} ms  p90={pct(samples, 90):7.0f} ms  "
        f"max={max(samples) * 1000:7.0f} ms{late}"
    )


def run(restarts: int, downs: list[float], timeout: float, report: Callable[[str], None]) -> dict[str, list[float]]:
    """Restart the broker `restarts` times; the reconnection delays of every client, per client."""
    arrivals = Arrivals()
    with loopback_hall() as lb:
        clients = [bus_device(lb, d, arrivals) for d in DEVICES]
        agent = printer_agent(lb, arrivals)
        bare = bare_client(lb, arrivals)
        names = [*DEVICES, PRINTER, "bare paho"]
        first = arrivals.wait_all(names, 0.0, 15)
        assert len(first) == len(names), f"not every client connected at first: {sorted(first)}"
        delays: dict[str, list[float]] = {n: [] for n in names}
        missing: dict[str, int] = dict.fromkeys(names, 0)
        try:
            for i in range(restarts):
                down = downs[i % len(downs)]
                lb.broker.stop()
                time.sleep(down)
                lb.broker.start()
                back = time.perf_counter()  # the broker accepts connections again
                got = arrivals.wait_all(names, back, timeout)
                for name in names:
                    if name in got:
                        delays[name].append(got[name])
                    else:
                        missing[name] += 1
                report(
                    f"restart {i + 1}/{restarts}, broker down {down:g} s: "
                    + ", ".join(f"{n} {got[n] * 1000:.0f} ms" if n in got else f"{n} late" for n in names)
                )
        finally:
            bare.disconnect()
            bare.loop_stop()
            agent.stop()
            for client in clients:
                client.stop()
    report("")
    hallq = [d for n in (*DEVICES, PRINTER) for d in delays[n]]
    report(line("hallq devices", hallq, sum(missing[n] for n in (*DEVICES, PRINTER))))
    report(line("  printer agent", delays[PRINTER], missing[PRINTER]))
    report(line("bare paho (default)", delays["bare paho"], missing["bare paho"]))
    return delays


def main() -> None:
    """Parse the options, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--restarts", type=int, default=8)
    parser.add_argument("--down", default="0.5,2,5,10", help="seconds the broker stays down, in turn")
    parser.add_argument("--timeout", type=float, default=40.0, help="give up on a client after this long")
    args = parser.parse_args()
    downs = [float(d) for d in args.down.split(",")]
    logging.basicConfig(level=logging.ERROR)  # every restart makes each client warn that it lost the broker
    print(
        f"reconnection after a broker restart, loopback Mosquitto, {args.restarts} restarts, "
        f"broker down {args.down} s in turn; time from the broker listening again to each client being back\n",
        flush=True,
    )
    run(args.restarts, downs, args.timeout, lambda text: print(text, flush=True))


if __name__ == "__main__":
    main()
