"""Personal data: no image is written anywhere, nothing of it is logged, models load only when needed."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.face.conftest import RunCheckin, photo

ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter with an audit hook that records every file opened for writing or created.
CHECKIN_SCRIPT = r"""
import json, logging, os, random, sys
writes = []
def hook(event, args):
    if event == "open":
        path, mode, flags = args
        writing = any(c in (mode or "") for c in "wax+") or (flags or 0) & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        if writing:
            writes.append(str(path))
    elif event in ("os.mkdir", "os.rename", "os.replace", "shutil.copyfile", "os.link", "os.symlink"):
        writes.append(event + " " + str(args[0]))
sys.addaudithook(hook)
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
from kiosk.face.camera_sim import ASSETS, SimClock
from kiosk.face.capture import open_source
from kiosk.face.checkin import FaceCheckin, FaceSettings
outcomes = []
for spec, id_file in (("sim:live_left", "id_obama.jpg"), ("sim:live_left", "id_biden.jpg")):
    clock = SimClock()
    source = open_source(spec, fps=10, hold=10, clock=clock, sleep=clock.sleep)
    checkin = FaceCheckin(source, FaceSettings(turn_direction="left"), clock=clock, sleep=clock.sleep)
    outcome = checkin.run((ASSETS / id_file).read_bytes(), lambda step, message: None)
    source.close()
    outcomes.append(outcome.accepted)
print(json.dumps({"writes": writes, "accepted": outcomes}))
"""


def snapshot(folder: Path) -> set[str]:
    """Every path under folder."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_a_check_in_writes_no_file(tmp_path: Path) -> None:
    """Two check-ins (accepted, rejected) with HOME, TMPDIR and cwd in a fresh folder: nothing is created."""
    for name in ("home", "tmp", "cwd"):
        (tmp_path / name).mkdir()
    env = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "TMPDIR": str(tmp_path / "tmp"),
        "PYTHONPATH": str(ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    assets_before = snapshot(ROOT / "kiosk" / "sim_assets" / "faces")
    done = subprocess.run(
        [sys.executable, "-c", CHECKIN_SCRIPT],
        cwd=tmp_path / "cwd",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["accepted"] == [True, False]
    assert result["writes"] == []
    assert snapshot(tmp_path) == {"home", "tmp", "cwd"}
    assert snapshot(ROOT / "kiosk" / "sim_assets" / "faces") == assets_before
    log = done.stderr
    assert "face check-in: accepted=True" in log and "face check-in: accepted=False" in log
    assert len(log) < 2000, "the log carries more than verdict lines"
    assert "JFIF" not in log and "\\xff\\xd8" not in log and "array(" not in log


def test_log_records_carry_no_image_or_embedding(run_checkin: RunCheckin, caplog: pytest.LogCaptureFixture) -> None:
    """Every log record of a check-in is a short line whose arguments are plain numbers, words and flags."""
    with caplog.at_level(logging.DEBUG):
        run_checkin("sim:live_left", photo("id_obama.jpg"), turn_direction="left")
    records = [r for r in caplog.records if r.name.startswith("kiosk.face")]
    assert records
    for record in records:
        assert len(record.getMessage()) < 200
        args = record.args if isinstance(record.args, tuple) else ()
        assert not any(isinstance(a, bytes | bytearray | memoryview | np.ndarray | list) for a in args)


def test_importing_the_kiosk_side_loads_no_model() -> None:
    """The kiosk imports capture and checkin and builds a FaceCheckin at start-up without loading dlib."""
    script = (
        "import sys\n"
        "from kiosk.face.capture import open_source, FrameSource\n"
        "from kiosk.face.checkin import FaceCheckin, FaceOutcome, FaceSettings\n"
        "from kiosk.face.models import models_loaded\n"
        "FaceCheckin(open_source('sim:live_left'), FaceSettings())\n"
        "print('dlib' in sys.modules, models_loaded())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
