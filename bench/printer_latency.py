"""Print latency on loopback (not a test: prints numbers): a ticket job published with the hall server's
account → broker → printer agent (journal fsyncs, DLE EOT status before and after, layout) → bytes at the
TCP printer simulator, one job at a time, plus the job_result back at the server.

    python -m bench.printer_latency [--n 300] [--width 80]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.ticket_core import pct
from broker.client import BusClient, BusSettings
from broker.messages import PrintJob, ServerAvailability
from broker.mosquitto import BrokerProcess, free_port, render
from broker.topics import Topics
from firmware_config.credentials import device_account, server_account
from firmware_config.devices import PrinterProfile, SimulatorConnection, load_devices
from firmware_config.hall import load_hall_profile
from kiosk.printer.agent import PrinterAgent
from kiosk.printer.samples import SAMPLES
from kiosk.printer.simulator import Capture, PrinterSimulator

DEMO = Path(__file__).resolve().parents[1] / "firmware_config" / "halls" / "demo"
ZONE = ZoneInfo("Asia/Shanghai")
DEVICE = "printer-kiosk-01"
CUT = b"\x1dV"


def line(name: str, samples: list[float]) -> str:
    """One printed line of percentiles."""
    return (
        f"{name:<44} n={len(samples):4d}  p50={pct(samples, 50):6.2f} ms  p90={pct(samples, 90):6.2f} ms  "
        f"p99={pct(samples, 99):6.2f} ms  max={max(samples) * 1000:6.2f} ms"
    )


def measure(host: str, port: int, secret: Path, state: Path, n: int, width: int) -> dict[str, list[float]]:
    """Publish n ticket jobs one after the other and time each stage."""
    topics = Topics("demo")
    hall = load_hall_profile(DEMO / "hall.yaml")
    profile = load_devices(DEMO / "devices.yaml", hall).get(DEVICE)
    assert isinstance(profile, PrinterProfile)
    first_byte, cut, result = threading.Event(), threading.Event(), threading.Event()
    marks: dict[str, float] = {}

    def on_data(capture: Capture) -> None:
        if capture.data and not first_byte.is_set():
            marks["first"] = time.perf_counter()
            first_byte.set()
        if CUT in capture.data and not cut.is_set():
            marks["cut"] = time.perf_counter()
            cut.set()

    with PrinterSimulator(port=0) as sim:
        sim.on_data = on_data
        profile = profile.model_copy(
            update={"connection": SimulatorConnection(type="simulator", port=sim.port), "paper_width_mm": width}
        )
        account = device_account(secret, DEVICE)
        agent = PrinterAgent(profile, BusSettings("demo", DEVICE, DEVICE, account.password, host, port), state)
        agent.start()
        agent.ready.wait(5)
        server = server_account(secret)
        client = BusClient(
            BusSettings("demo", "bench-printer", server.username, server.password, host, port),
            "hall/demo/bench/availability",
            lambda s: ServerAvailability(ts=datetime.now(ZONE), state=s, version="bench"),
        )

        def on_result(_topic: str, _payload: bytes) -> None:
            marks.setdefault("result", time.perf_counter())
            result.set()

        client.subscribe(topics.device(DEVICE, "event"), on_result)
        client.start()
        time.sleep(0.3)  # the agent's subscription is in place
        samples: dict[str, list[float]] = {"first": [], "cut": [], "result": []}
        for i in range(n + 10):
            for event in (first_byte, cut, result):
                event.clear()
            marks.clear()
            now = datetime.now(ZONE)
            job = PrintJob(
                ts=now,
                job_id=uuid.uuid4().hex,
                kind="ticket",
                document={**SAMPLES["ticket"], "ticket": f"A{i % 1000:03d}"},
                expires_at=now + timedelta(minutes=5),
            )
            t0 = time.perf_counter()
            client.publish(topics.device(DEVICE, "job"), job, expiry_s=300)
            if not (cut.wait(5) and result.wait(5)):
                raise RuntimeError(f"job {i} was not printed within 5 s")
            if i >= 10:  # warm-up jobs are not counted
                for key in samples:
                    samples[key].append(marks[key] - t0)
        client.stop()
        agent.stop()
    return samples


def _fs(path: Path) -> str:
    """The file system type holding path (fsync costs differ a lot between tmpfs and a disk)."""
    best, kind = "", "?"
    for mount in Path("/proc/mounts").read_text().splitlines():
        parts = mount.split()
        if len(parts) > 2 and str(path).startswith(parts[1]) and len(parts[1]) > len(best):
            best, kind = parts[1], parts[2]
    return kind


def main() -> None:
    """Start a broker on loopback, an agent and a simulator, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--width", type=int, default=80, choices=(58, 80))
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hallq-bench-"))
    root.chmod(0o755)  # the broker runs as the mosquitto user
    try:
        hall = load_hall_profile(DEMO / "hall.yaml")
        devices = load_devices(DEMO / "devices.yaml", hall)
        secret = root / "secret"
        broker = BrokerProcess(render(hall, devices, secret, root / "broker", port=free_port())).start()
        try:
            samples = measure(broker.host, broker.port, secret, root / "state", args.n, args.width)
        finally:
            broker.stop()
        print(f"hallq print latency on loopback (Mosquitto, MQTT 5 QoS 1, {args.width} mm ticket), n={args.n}\n")
        print(line("job publish → first byte at printer", samples["first"]))
        print(line("job publish → whole ticket (cut) at printer", samples["cut"]))
        print(line("job publish → job_result at server", samples["result"]))
        print(f"\njournal and broker on {root} ({_fs(root)}): each job fsyncs the journal three times")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
