"""The agent as its own process (`python -m kiosk.printer.cli agent`), killed with SIGKILL mid-queue and
restarted: no job lost, none printed twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from firmware_config.provision import BrokerEndpoint, device_config
from kiosk.printer.decoder import decode
from kiosk.printer.samples import SAMPLES
from kiosk.printer.simulator import Capture, PrinterSimulator
from tests.bus.fixtures import DEMO_HALL, HallBroker
from tests.printer.conftest import DEVICE, TOPICS, ZONE, Server, printer_profile, wait_online

ROOT = Path(__file__).resolve().parents[2]
CUT = b"\x1dV"


def hall_dir(tmp: Path, port: int) -> Path:
    """A copy of the demo hall whose printer-kiosk-01 is the simulator on `port`."""
    folder = tmp / "hall"
    folder.mkdir()
    (folder / "hall.yaml").write_bytes((DEMO_HALL / "hall.yaml").read_bytes())
    devices = yaml.safe_load((DEMO_HALL / "devices.yaml").read_text(encoding="utf-8"))
    for device in devices["devices"]:
        if device["id"] == DEVICE:
            device["connection"] = {"type": "simulator", "port": port}
    (folder / "devices.yaml").write_text(yaml.safe_dump(devices, allow_unicode=True), encoding="utf-8")
    return folder


class AgentProcess:
    """Starts and kills `python -m kiosk.printer.cli agent` for the test printer."""

    def __init__(self, broker: HallBroker, hall: Path, state: Path, log: Path) -> None:
        self.args = [
            sys.executable, "-m", "kiosk.printer.cli", "agent", "--device", DEVICE, "--hall-dir", str(hall),
            "--secret-dir", str(broker.secret_dir), "--state-dir", str(state),
            "--broker-host", broker.host, "--broker-port", str(broker.port),
        ]  # fmt: skip
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, server: Server) -> None:
        since = datetime.now(ZONE).replace(microsecond=0)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.args, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        wait_online(server, DEVICE, since)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def agent_process(broker: HallBroker, sim: PrinterSimulator, tmp_path: Path) -> Iterator[AgentProcess]:
    process = AgentProcess(broker, hall_dir(tmp_path, sim.port), tmp_path / "state", tmp_path / "agent.log")
    yield process
    process.stop()


def ticket(number: str) -> dict[str, object]:
    return {**SAMPLES["ticket"], "ticket": number}


def test_killed_mid_queue_loses_nothing_and_prints_nothing_twice(
    agent_process: AgentProcess, server: Server, sim: PrinterSimulator, tmp_path: Path
) -> None:
    agent_process.start(server)
    killed = threading.Event()

    def kill_after_third(capture: Capture) -> None:
        # Runs in the simulator as bytes arrive: the third ticket is complete on paper, and the agent is
        # waiting for the status after it (not yet answered), so its journal says "started".
        documents = sum(c.data.count(CUT) for c in sim.captures) if not killed.is_set() else 0
        if documents == 3 and not killed.is_set():
            killed.set()
            agent_process.kill()

    sim.on_data = kill_after_third
    numbers = [f"A{n:03d}" for n in range(101, 109)]
    ids = {server.job("ticket", ticket(number)): number for number in numbers}
    assert killed.wait(20), "the agent never printed three tickets"
    assert agent_process.proc is not None
    agent_process.proc.wait(5)
    sim.on_data = None

    later = [f"A{n:03d}" for n in range(109, 111)]  # published while the agent is down: wait in its session
    ids.update({server.job("ticket", ticket(number)): number for number in later})
    agent_process.start(server)
    server.inbox.wait_for(lambda t, p: set(server.inbox.results()) >= set(ids), timeout=20)

    results = server.inbox.results()
    outcomes = {job_id: {r["status"] for r in results[job_id]} for job_id in ids}
    assert all(len(o) == 1 for o in outcomes.values()), outcomes  # never both printed and failed
    failed = [job_id for job_id, o in outcomes.items() if o == {"failed"}]
    assert len(failed) == 1 and "中断" in results[failed[0]][0]["error"]
    assert ids[failed[0]] == "A103"  # the one on paper when the agent died is not printed again

    on_paper = Counter(line.text for data in sim.documents() for line in decode(data).text_lines if line.scale[0] == 4)
    assert all(count == 1 for count in on_paper.values()), on_paper
    assert set(on_paper) == set(numbers + later)  # every ticket came out exactly once

    since = datetime.now(ZONE)
    agent_process.stop()  # SIGTERM: a clean shutdown says offline (the last will of the kill is older)
    assert agent_process.proc is not None and agent_process.proc.returncode == 0
    topic = TOPICS.device(DEVICE, "availability")
    server.inbox.wait_for(
        lambda t, p: t == topic and p["state"] == "offline" and datetime.fromisoformat(p["ts"]) >= since
    )


def test_provisioned_board_runs_from_its_environment(
    broker: HallBroker, server: Server, sim: PrinterSimulator, tmp_path: Path
) -> None:
    """As systemd starts it on a board: device.json, credentials and state folder from the environment."""
    config = device_config(
        broker.hall, printer_profile(broker, DEVICE, sim.port), BrokerEndpoint(broker.host, broker.port)
    )
    (tmp_path / "device.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    account = broker.account(DEVICE)
    env = {
        **os.environ,
        "HALLQ_DEVICE_ID": DEVICE,
        "HALLQ_DEVICE_CONFIG": str(tmp_path / "device.json"),
        "HALLQ_BROKER_USERNAME": account.username,
        "HALLQ_BROKER_PASSWORD": account.password,
        "STATE_DIRECTORY": str(tmp_path / "state"),
    }
    for key in ("HALLQ_BROKER_HOST", "HALLQ_BROKER_PORT", "HALLQ_HALL_DIR", "HALLQ_SECRET_DIR"):
        env.pop(key, None)
    since = datetime.now(ZONE).replace(microsecond=0)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk.printer.cli", "agent"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_online(server, DEVICE, since)
        job_id = server.job("ticket", ticket("B007"))
        assert server.inbox.result(job_id)["status"] == "printed"
        assert "B007" in decode(sim.data()).lines
        assert (tmp_path / "state" / f"{DEVICE}.journal").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=10)[0].decode()
    assert proc.returncode == 0, output
