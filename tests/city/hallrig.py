"""Real halls linked to a city on loopback, for the city fault tests: each hall has its own Mosquitto (with the
bridge generated from its profile's `city:` section, as provisioning wrote it), its own SQLite database with
the outbox capture installed, and its own publisher; traffic goes through the hall's services. The city
ingest runs as its own process group, so a test can kill it with -9."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine, func, select, text
from sqlmodel import col

from broker.mosquitto import BrokerProcess, free_port, render
from firmware_config.credentials import server_account
from firmware_config.hall import city_identity_key
from firmware_config.provision import load_hall_devices
from hallcore.calendar import HOLIDAYS_FILE, Holidays
from hallcore.clock import OffsetClock
from hallcore.sync import parse
from hallserver.db import make_engine, upgrade
from hallserver.models import Evaluation, SyncOutbox, SyncState, Visit
from hallserver.services import windows
from hallserver.services.context import HallContext, load_context
from hallserver.sync import capture
from hallserver.sync.link import BrokerLogin, Publisher
from tests.conftest import TEST_KEY, TEST_KEYRING
from tests.integration.helpers import tx
from tests.sync.helpers import rate_bad, serve

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "firmware_config" / "halls" / "demo"
SHANGHAI = ZoneInfo("Asia/Shanghai")
CITY = "demo-city"
# Three halls at different levels and districts (code, id, name, level, region).
HALLS = (
    ("0101", "city-hall", "市民中心政务服务大厅", "市级", "440304"),
    ("0102", "nanshan", "南山区政务服务中心", "区县级", "440305"),
    ("0103", "yuehai", "粤海街道便民服务中心", "街道（乡镇）", "440305"),
)


def shared_dir(prefix: str) -> Path:
    """A folder the `mosquitto` user can reach (pytest's tmp_path is 0700 under root)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o711)
    return folder


def opening_day(now: datetime) -> datetime:
    """09:30 on the latest working day before today (Shanghai), so a hall is open and the city accepts it."""
    holidays = Holidays.load(HOLIDAYS_FILE)
    day: date = now.astimezone(SHANGHAI).date() - timedelta(days=1)
    while not holidays.is_working_day(day):
        day -= timedelta(days=1)
    return datetime(day.year, day.month, day.day, 9, 30, tzinfo=SHANGHAI)


def write_hall_dir(folder: Path, code: str, hall_id: str, name: str, level: str, region: str) -> Path:
    """A hall folder: the demo hall's windows and catalog under another id, code, level and district."""
    folder.mkdir(parents=True, exist_ok=True)
    profile = yaml.safe_load((DEMO / "hall.yaml").read_text(encoding="utf-8"))
    profile["hall"].update(id=hall_id, code=code, name=name, level=level, region_code=region)
    (folder / "hall.yaml").write_text(yaml.safe_dump(profile, allow_unicode=True, sort_keys=False), encoding="utf-8")
    shutil.copy(DEMO / "devices.yaml", folder / "devices.yaml")
    (folder / "catalog").symlink_to(DEMO / "catalog")
    return folder


def merge_city_section(hall_dir: Path, copy: Path, **link: Any) -> None:
    """Put provisioning's `city.yaml` into hall.yaml (as the installer does), with test-rig link settings."""
    given = yaml.safe_load((copy / "city.yaml").read_text(encoding="utf-8"))
    profile = yaml.safe_load((hall_dir / "hall.yaml").read_text(encoding="utf-8"))
    profile["hall"]["code"] = given["hall"]["code"]
    profile["city"] = given["city"] | link
    (hall_dir / "hall.yaml").write_text(yaml.safe_dump(profile, allow_unicode=True, sort_keys=False), encoding="utf-8")


class Spy:
    """Every distinct (seq, stream) a hall published on its own broker: what the hall produced."""

    def __init__(self, host: str, port: int, username: str, password: str, hall_id: str) -> None:
        self.seen: dict[int, str] = {}
        self.lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"spy-{hall_id}", protocol=mqtt.MQTTv5)
        self.client.username_pw_set(username, password)
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe(f"hall/{hall_id}/sync/up/#", qos=1)
        self.client.connect(host, port)
        self.client.loop_start()

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        stream = msg.topic.rsplit("/", 1)[1]
        envelope, _ = parse(stream, msg.payload)
        with self.lock:
            self.seen[envelope.seq] = stream

    def per_stream(self) -> Counter[str]:
        with self.lock:
            return Counter(self.seen.values())

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@dataclass
class Hall:
    """One running hall of the rig."""

    code: str
    hall_id: str
    folder: Path
    secret: Path
    ctx: HallContext
    engine: Engine
    broker: BrokerProcess
    publisher: Publisher
    spy: Spy
    served: int = 0
    seed: int = 0
    errors: list[str] = field(default_factory=list)

    def visit(self, bad: bool = False) -> None:
        """One real-name visit served to the end, rated (a bad rating opens a rectification)."""
        self.seed += 1
        visit_id = serve(self.engine, self.ctx, self.seed)
        if bad:
            rate_bad(self.engine, self.ctx, visit_id, "等候时间太长")
        self.served += 1

    def last_seq(self) -> int:
        return tx(self.engine, lambda s: s.get(SyncState, 1).last_seq if s.get(SyncState, 1) else 0)

    def backlog(self) -> int:
        return int(tx(self.engine, lambda s: s.exec(select(func.count()).select_from(SyncOutbox)).one()[0]))

    def rows(self, model: type) -> int:
        return int(tx(self.engine, lambda s: s.exec(select(func.count(col(model.id)))).one()[0]))

    def visits(self) -> int:
        return self.rows(Visit)

    def evaluations(self) -> int:
        return self.rows(Evaluation)

    def stop(self) -> None:
        self.publisher.stop()
        capture.uninstall(self.engine)
        self.spy.close()
        self.broker.stop()
        self.engine.dispose()
        shutil.rmtree(self.broker.files.out_dir.parent, ignore_errors=True)


def start_hall(root: Path, hall_dir: Path, copy: Path, start: datetime) -> Hall:
    """A hall with its broker (bridged to the city), database, capture and publisher, all running."""
    from city.provision import install_copy

    hall, devices = load_hall_devices(hall_dir)
    assert hall.city is not None and hall.hall.code is not None
    secret = root / "secret"
    install_copy(copy, secret)
    files = render(
        hall, devices, secret, shared_dir(f"hallq-{hall.hall.id}-") / "broker", free_port(), hall_dir=hall_dir
    )
    broker = BrokerProcess(files).start()
    url = f"sqlite:///{root / 'hall.db'}"
    upgrade(url)
    engine = make_engine(url)
    ctx = load_context(hall_dir, HOLIDAYS_FILE, OffsetClock(start), TEST_KEY, TEST_KEYRING)
    tx(engine, lambda s: windows.sync_windows(s, ctx.profile, ctx.now()))
    cap = capture.install(engine, ctx, city_identity_key(secret))
    login = server_account(secret)
    publisher = Publisher(
        ctx, engine, hall.city, BrokerLogin(broker.host, broker.port, login.username, login.password), cap.wake
    )
    spy = Spy(broker.host, broker.port, login.username, login.password, hall.hall.id)
    publisher.start()
    return Hall(hall.hall.code, hall.hall.id, hall_dir, secret, ctx, engine, broker, publisher, spy)


class IngestProcess:
    """`city.ingest.Ingest` with N workers in its own process group (so -9 takes the workers along)."""

    def __init__(self, env: dict[str, str], workers: int, log: Path) -> None:
        self.env, self.workers, self.log = env, workers, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        code = (
            "import logging; logging.basicConfig(level=logging.INFO);"
            "from city.ingest import Ingest; from city.settings import CitySettings;"
            f"Ingest(CitySettings(), {self.workers}).run()"
        )
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", code],
                env={**os.environ, **self.env, "PYTHONPATH": str(ROOT)},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=ROOT,
            )

    def kill9(self) -> None:
        """SIGKILL the ingest and its workers at once, as a crashed machine would."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def city_counts(engine: Engine, code: str) -> tuple[Counter[str], int, int, int]:
    """Per stream the records the city holds for a hall, the (hall, seq) received, distinct seqs, watermark."""
    from city.db.schema import RECORD_TABLES

    per_stream: Counter[str] = Counter()
    with engine.connect() as conn:
        for stream, table in RECORD_TABLES.items():
            n, distinct = conn.execute(
                select(func.count(), func.count(func.distinct(table.c.seq))).where(table.c.hall == code)
            ).one()
            assert n == distinct, f"{stream}: a (hall, seq) of {code} stored twice"
            if n:
                per_stream[stream] = n
        received = conn.execute(
            text("SELECT count(*), count(DISTINCT seq) FROM received WHERE hall = :h"), {"h": code}
        ).one()
        upto = conn.execute(text("SELECT upto FROM hall_watermark WHERE hall = :h"), {"h": code}).scalar()
    return per_stream, int(received[0]), int(received[1]), int(upto or 0)


def rig_state(rig: dict) -> str:
    """Each hall's seq and backlog beside what the city received and acknowledged (for a failing wait)."""
    parts = []
    for hall in rig["halls"]:
        _, received, _, upto = city_counts(rig["engine"], hall.code)
        parts.append(
            f"{hall.hall_id}: last_seq={hall.last_seq()} backlog={hall.backlog()} city received={received} "
            f"upto={upto} link={hall.publisher.state}"
        )
    return "; ".join(parts)


def caught_up(rig: dict) -> bool:
    """Every hall's records are stored once at the city and acknowledged, and no backlog is left."""
    for hall in rig["halls"]:
        _, received, _, upto = city_counts(rig["engine"], hall.code)
        if hall.backlog() or received != hall.last_seq() or upto != hall.last_seq():
            return False
    return True


def wait_until(what: str, check: Callable[[], bool], timeout: float, detail: Callable[[], str] = lambda: "") -> None:
    """Poll `check` until it holds; fail with `what` and the current state after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout:g} s: {detail()}")
        time.sleep(0.5)


class Traffic:
    """A thread per hall serving visits until stopped (a failed visit is recorded, never hidden)."""

    def __init__(self, halls: list[Hall], pause_s: float = 0.05) -> None:
        self.halls, self.pause_s = halls, pause_s
        self.stop_flag = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(h,), daemon=True) for h in halls]
        self.errors: queue.SimpleQueue[str] = queue.SimpleQueue()

    def _run(self, hall: Hall) -> None:
        while not self.stop_flag.is_set():
            try:
                hall.visit(bad=hall.served % 5 == 4)
            except Exception as exc:
                self.errors.put(f"{hall.hall_id}: {exc!r}")
                return
            self.stop_flag.wait(self.pause_s)

    def __enter__(self) -> Traffic:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop_flag.set()
        for t in self.threads:
            t.join(30)
        assert self.errors.empty(), self.errors.get()
