"""`hallq cabinet` as a board runs it (simulated board and reader) against the real broker and server: it comes
online as a `cabinet`, and `hallq cabinet-sim` / `hallq idcard-sim` find it by its device id."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.gateway.fixtures import Bus

CABINET = "pickup-cabinet-01"


def test_the_cabinet_command_runs_and_is_controlled_by_device_id(bus: Bus, tmp_path: Path) -> None:
    short = Path(f"/tmp/hq-cabcli-{os.getpid()}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HALLQ_")}  # only what the test says
    env |= {"HALLQ_IDCARD_SOCKET_DIR": str(short / "idcard"), "HALLQ_CABINET_SOCKET_DIR": str(short / "cabinet")}
    hallq = [sys.executable, "-m", "hallq"]
    argv = [*hallq, "cabinet", "--device", CABINET, "--secret-dir", str(bus.secret_dir)]
    argv += ["--broker-host", bus.broker.host, "--broker-port", str(bus.broker.port)]
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            listing = {d["id"]: d for d in bus.http.get("/api/v1/devices").json()}
            if listing[CABINET]["online"]:
                break
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "the cabinet did not come online"
            time.sleep(0.2)
        assert listing[CABINET]["kind"] == "cabinet" and listing[CABINET]["contract_current"] is True

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([*hallq, *args], env=env, capture_output=True, text=True, timeout=60)

        assert run("cabinet-sim", "--device", CABINET, "put", "7").stdout.strip() == "ok put 7"
        assert run("cabinet-sim", "--device", CABINET, "status").stdout.strip() == "ok open=- occupied=7"
        listed = run("idcard-sim", "--device", CABINET, "list")
        assert listed.returncode == 0 and "resident" in listed.stdout
        missing = run("cabinet-sim", "--device", "pickup-cabinet-09", "status")
        assert missing.returncode == 1 and "找不到正在运行的模拟领取柜 pickup-cabinet-09" in missing.stderr
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
    assert process.returncode == 0, output
    assert "24小时证照自助领取柜（pickup-cabinet-01）：24 个柜门（模拟柜门控制板与身份证阅读器）" in output
    assert not list((short / "cabinet").glob("*.sock"))  # its control sockets went with it
    shutil.rmtree(short, ignore_errors=True)
