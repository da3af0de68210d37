"""`make city` (`python -m city.demo`): a demo city on this machine. Three halls (市级, 区县级, 街道 in two
districts) and one 24-hour self-service point, each with its own Mosquitto (bridged to the city) and hall
server (SQLite) on its own ports; the city Mosquitto, two ingest workers, a PostgreSQL server of its own and
the city console. Traffic is simulated at each hall through its REST API so the console shows something
live. Everything lives under var/city/ (made afresh at each start); Ctrl-C or SIGTERM stops it all.

It starts the hall servers as `hallq serve` processes and imports nothing of the hall server.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib import error, request
from zoneinfo import ZoneInfo

import yaml

from broker.mosquitto import BrokerError, BrokerProcess, render
from city.broker import INGEST_USERNAME, PUBLISHER_USERNAME, CityBroker
from city.cluster.postgres import LocalPostgres, PostgresError
from city.provision import CityEndpoint, install_copy, provision_halls, registered_codes
from firmware_config.hall import HALLS_DIR, ProfileError
from firmware_config.paths import PROJECT_ROOT, VAR_DIR
from firmware_config.provision import load_hall_devices
from hallcore.calendar import HOLIDAYS_FILE, Holidays

log = logging.getLogger("city.demo")
SHANGHAI = ZoneInfo("Asia/Shanghai")
CITY = "demo-city"
PASSWORD = "demo1234"
ROOT = VAR_DIR / "city"
HALLQ = [sys.executable, "-m", "hallq"]
# id, code, name, level, region, district's parent region, server port, broker port, visits per minute
HALLS = (
    ("shimin", "0101", "深圳市民中心政务服务大厅", "市级", "440304", "440300", 8101, 18831, 12),
    ("nanshan", "0102", "南山区政务服务中心", "区县级", "440305", "440300", 8102, 18832, 10),
    ("yuehai", "0103", "粤海街道党群服务中心", "街道（乡镇）", "440305", "440305", 8103, 18833, 6),
)
POINT = ("point24", "0004", 8104, 18834)  # the code is the one in its profile
CITY_BROKER_PORT, CITY_PORT, PG_PORT = 18830, 8100, 15432


@dataclass
class Site:
    """One hall or point of the demo: its folder, ports and processes."""

    hall_id: str
    code: str
    name: str
    folder: Path
    port: int
    broker_port: int
    per_minute: int
    broker: BrokerProcess | None = None
    server: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Api:
    """A hall's REST API as a logged-in client (standard library only)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.token: str | None = None

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """(status, JSON body) of one request; HTTP errors are answers, not exceptions."""
        data = json.dumps(body).encode() if body is not None else None
        req = request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def get(self, path: str) -> Any:
        return self.call("GET", path)[1]

    def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        return self.call("POST", path, body)


def reachable(url: str) -> bool:
    """Whether a URL answers below 500."""
    try:
        with request.urlopen(url, timeout=2) as resp:
            return bool(resp.status < 500)
    except error.HTTPError as exc:
        return exc.code < 500
    except OSError:
        return False


def demo_clock_start(now: datetime) -> datetime:
    """09:00 of the latest working day (today when it is one): the halls are open and the city accepts it."""
    holidays = Holidays.load(HOLIDAYS_FILE)
    day: date = now.astimezone(SHANGHAI).date()
    while not holidays.is_working_day(day):
        day -= timedelta(days=1)
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=SHANGHAI)


def write_hall(folder: Path, hall_id: str, code: str, name: str, level: str, region: str) -> Path:
    """A hall folder: the demo hall's windows, staff and catalog under this hall's identity."""
    folder.mkdir(parents=True, exist_ok=True)
    demo = HALLS_DIR / "demo"
    profile = yaml.safe_load((demo / "hall.yaml").read_text(encoding="utf-8"))
    profile["hall"].update(id=hall_id, code=code, name=name, level=level, region_code=region)
    (folder / "hall.yaml").write_text(yaml.safe_dump(profile, allow_unicode=True, sort_keys=False), encoding="utf-8")
    shutil.copy(demo / "devices.yaml", folder / "devices.yaml")
    shutil.copytree(demo / "catalog", folder / "catalog")
    return folder


def write_point(folder: Path) -> Path:
    """The 24-hour point's folder from its profile in the repository (catalog copied, not linked)."""
    folder.mkdir(parents=True, exist_ok=True)
    source = HALLS_DIR / "point24"
    for name in ("hall.yaml", "devices.yaml"):
        shutil.copy(source / name, folder / name)
    shutil.copytree((source / "catalog").resolve(), folder / "catalog")
    return folder


def merge_city(folder: Path, copy: Path) -> None:
    """Put provisioning's city.yaml into the hall's hall.yaml (the installer's step)."""
    given = yaml.safe_load((copy / "city.yaml").read_text(encoding="utf-8"))
    profile = yaml.safe_load((folder / "hall.yaml").read_text(encoding="utf-8"))
    profile["hall"]["code"] = given["hall"]["code"]
    profile["city"] = given["city"] | {"resend_after_s": 10}
    (folder / "hall.yaml").write_text(yaml.safe_dump(profile, allow_unicode=True, sort_keys=False), encoding="utf-8")


class Demo:
    """Starts and stops the whole demo city."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.sites: list[Site] = []
        self.pg: LocalPostgres | None = None
        self.city_broker: CityBroker | None = None
        self.stop = threading.Event()
        self.logs = ROOT / "logs"
        self.clock_start = demo_clock_start(datetime.now(SHANGHAI))

    # --- processes ---
    def spawn(self, name: str, cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        """A child process in its own process group, its output in var/city/logs/<name>.log."""
        with (self.logs / f"{name}.log").open("ab") as out:
            proc = subprocess.Popen(
                cmd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT,
                start_new_session=True,
            )  # fmt: skip
        self.procs.append((name, proc))
        return proc

    def run_once(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        result = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True, cwd=PROJECT_ROOT)
        if result.returncode != 0:
            raise RuntimeError(f"{name} 失败：{result.stdout}{result.stderr}")

    # --- start ---
    def start(self) -> None:
        shutil.rmtree(ROOT, ignore_errors=True)
        ROOT.mkdir(parents=True)
        ROOT.chmod(0o755)
        self.logs.mkdir()
        self.pg = LocalPostgres(ROOT / "pg", PG_PORT, fsync=False)
        self.pg.start()
        url = self.pg.create_database("hallq_city")
        from city.db import make_engine, upgrade
        from city.partitions import Partitions

        upgrade(url)
        engine = make_engine(url, pool_size=1, max_overflow=1)
        now = datetime.now(SHANGHAI)
        Partitions(engine).ensure_ahead(now.date(), behind=1, ahead=2)
        from city.auth import set_user

        set_user(engine, "admin", PASSWORD, "admin", "市政务服务数据管理局", now)
        set_user(engine, "viewer", PASSWORD, "viewer", "市政务服务监督员", now)

        for hall_id, code, name, level, region, _parent, port, bport, rate in HALLS:
            folder = write_hall(ROOT / "halls" / hall_id, hall_id, code, name, level, region)
            self.sites.append(Site(hall_id, code, name, folder, port, bport, rate))
        point_id, point_code, point_port, point_bport = POINT
        folder = write_point(ROOT / "halls" / point_id)
        self.sites.append(Site(point_id, point_code, "24小时自助服务点", folder, point_port, point_bport, 0))
        endpoint = CityEndpoint(CITY, "127.0.0.1", CITY_BROKER_PORT, tls=False, api_url=f"http://127.0.0.1:{CITY_PORT}")
        copies, city_secret = ROOT / "provision", ROOT / "secret"
        provision_halls(engine, endpoint, [s.folder for s in self.sites], city_secret, copies, now)
        self.city_broker = CityBroker(CITY, registered_codes(engine), city_secret, ROOT / "broker", CITY_BROKER_PORT)
        self.city_broker.start()
        engine.dispose()

        city_env = {
            "HALLQ_CITY_DATABASE_URL": url,
            "HALLQ_CITY_CITY_ID": CITY,
            "HALLQ_CITY_BROKER_HOST": "127.0.0.1",
            "HALLQ_CITY_BROKER_PORT": str(CITY_BROKER_PORT),
            "HALLQ_CITY_BROKER_USERNAME": INGEST_USERNAME,
            "HALLQ_CITY_BROKER_PASSWORD": self.city_broker.account(INGEST_USERNAME).password,
            "HALLQ_CITY_PORT": str(CITY_PORT),
            "HALLQ_CITY_ROLLUP_INTERVAL_S": "10",
        }
        self.spawn("city-ingest", [*HALLQ, "city", "ingest", "--workers", "2"], city_env)
        publisher = {"HALLQ_CITY_PUBLISHER_PASSWORD": self.city_broker.account(PUBLISHER_USERNAME).password}
        self.spawn("city-console", [*HALLQ, "city", "serve"], city_env | publisher)
        for site in self.sites:
            merge_city(site.folder, copies / site.hall_id)
        # Each site's migrate / password / server start is a few seconds of Python start-up: all at once.
        failures: list[BaseException] = []
        threads = [
            threading.Thread(target=self._start_site_safely, args=(site, copies / site.hall_id, failures))
            for site in self.sites
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if failures:
            raise RuntimeError(f"站点启动失败：{failures[0]}")
        self.wait_ready()

    def _start_site_safely(self, site: Site, copy: Path, failures: list[BaseException]) -> None:
        try:
            self.start_site(site, copy)
        except (RuntimeError, BrokerError, ProfileError, OSError) as exc:
            failures.append(exc)

    def site_env(self, site: Site) -> dict[str, str]:
        run = ROOT / "run" / site.hall_id
        return {
            "HALLQ_HALL_DIR": str(site.folder),
            "HALLQ_SECRET_DIR": str(run / "secret"),
            "HALLQ_DATABASE_URL": f"sqlite:///{run / 'hall.db'}",
            "HALLQ_BROKER_HOST": "127.0.0.1",
            "HALLQ_BROKER_PORT": str(site.broker_port),
            "HALLQ_CLOCK_START": self.clock_start.isoformat(),
            "HALLQ_CLOCK_FILE": str(run / "clock.json"),
        }

    def start_site(self, site: Site, copy: Path) -> None:
        """The site's broker (bridged to the city), its migrated database, a login, and its server."""
        env = self.site_env(site)
        secret = Path(env["HALLQ_SECRET_DIR"])
        install_copy(copy, secret)
        hall, devices = load_hall_devices(site.folder)
        (ROOT / "run" / site.hall_id).chmod(0o755)
        files = render(hall, devices, secret, ROOT / "run" / site.hall_id / "broker", site.broker_port,
                       hall_dir=site.folder)  # fmt: skip
        site.broker = BrokerProcess(files).start()
        self.run_once(f"{site.hall_id} db upgrade", [*HALLQ, "db", "upgrade"], env)
        login = "a01" if hall.windows else "m01"
        self.run_once(f"{site.hall_id} passwd", [*HALLQ, "user", "passwd", login, "--password", PASSWORD], env)
        site.server = self.spawn(f"hall-{site.hall_id}", [*HALLQ, "serve", "--port", str(site.port)], env)

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        urls = [f"{s.url}/api/v1/hall" for s in self.sites] + [f"http://127.0.0.1:{CITY_PORT}/console/"]
        for url in urls:
            while not self.stop.is_set():
                self.check_children()
                if reachable(url):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} 未在 {timeout:g} 秒内就绪，请查看 {self.logs}")
                time.sleep(0.5)

    def check_children(self) -> None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} 已退出（退出码 {proc.returncode}），日志：{self.logs / (name + '.log')}")

    # --- traffic ---
    def traffic(self, site: Site) -> None:
        """Citizens take tickets, windows call and finish them, some rate the service (a few badly)."""
        rng = random.Random(site.code)
        api = Api(site.url)
        try:
            status, answer = api.post("/api/v1/auth/login", {"username": "a01", "password": PASSWORD})
            if status != 200:
                log.error("%s: demo login refused (%s); no traffic at this hall", site.hall_id, answer)
                return
            api.token = answer["token"]
            domains = [d for d in api.get("/api/v1/catalog/domains") if d.get("group") and d.get("items")]
        except OSError as exc:
            log.error("%s: hall server unreachable (%s); no traffic at this hall", site.hall_id, exc)
            return
        windows = yaml.safe_load((site.folder / "hall.yaml").read_text(encoding="utf-8"))["windows"]
        people: dict[str, str] = {}
        seed = 0
        while not self.stop.wait(60 / site.per_minute * rng.uniform(0.5, 1.5)):
            seed += 1
            try:
                self.one_visit(api, rng, domains, windows, people, site, seed)
            except (OSError, KeyError, ValueError, TypeError) as exc:
                log.warning("%s: simulated visit failed: %r", site.hall_id, exc)

    def one_visit(
        self, api: Api, rng: random.Random, domains: list[Any], windows: list[Any],
        people: dict[str, str], site: Site, seed: int,
    ) -> None:  # fmt: skip
        domain = rng.choice(domains)
        item = rng.choice(domain["items"])
        item_code = item["code"] if isinstance(item, dict) else item
        id_number = demo_id_number(int(site.code) * 100000 + seed)
        name = rng.choice(["张伟", "王芳", "李娜", "刘洋", "陈静"])
        identity = {"id_number": id_number, "name": name, "method": "id_card"}
        status, issued = api.post("/api/v1/tickets", {"item_code": item_code, "identity": identity})
        if status != 201:
            log.warning("%s: ticket refused: %s", site.hall_id, issued)
            return
        people[issued["ticket"]] = id_number
        serving = [w["id"] for w in windows if domain["group"] in w["groups"]]
        window = rng.choice(serving)
        called = api.post(f"/api/v1/windows/{window}/call-next")[1].get("ticket")
        if not called:
            return
        api.post(f"/api/v1/windows/{window}/start")
        outcome = rng.choice(["受理", "受理", "当场办结", "咨询"])
        status, answer = api.post(f"/api/v1/windows/{window}/finish", {"outcome": outcome, "delivery": "窗口领取"})
        if status != 200:
            log.warning("%s: finish refused: %s", site.hall_id, answer)
        holder = people.pop(called["number"], None)
        if holder and rng.random() < 0.6:
            level = rng.choices([5, 4, 3, 2, 1], weights=[70, 15, 8, 4, 3])[0]
            api.post("/api/v1/evaluations", {"ticket": called["number"], "level": level, "channel": "evaluator",
                     "identity": {"id_number": holder, "method": "id_card"},
                     "comment": "等候时间太长" if level <= 2 else None})  # fmt: skip

    # --- stop ---
    def shutdown(self) -> None:
        self.stop.set()
        for _name, proc in reversed(self.procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for name, proc in reversed(self.procs):
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop; killing it", name)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
        for site in self.sites:
            if site.broker is not None:
                site.broker.stop()
        if self.city_broker is not None:
            self.city_broker.stop()
        if self.pg is not None:
            self.pg.stop()

    def banner(self) -> str:
        lines = [
            "",
            "hallq 演示城市已启动（三个大厅 + 一个24小时自助服务点，数据在 var/city/）",
            f"  市级监管控制台  http://127.0.0.1:{CITY_PORT}/console/   账号 admin 或 viewer，密码 {PASSWORD}",
            f"  市级接口文档    http://127.0.0.1:{CITY_PORT}/docs",
            f"  市级消息代理    mqtt://127.0.0.1:{CITY_BROKER_PORT}（各大厅桥接账号，权限由登记表生成）",
            f"  市级数据库      {self.pg.url('hallq_city') if self.pg else ''}",
            "  站点（各自的服务器与消息代理，桥接到市级）：",
        ]
        for s in self.sites:
            login = "a01" if s.per_minute else "m01"
            lines.append(
                f"    {s.code} {s.name:<14} {s.url}/console/  账号 {login}/{PASSWORD}  代理 mqtt://127.0.0.1:{s.broker_port}"
            )
        lines += [
            f"  大厅时钟从 {self.clock_start:%Y-%m-%d %H:%M} 起走（办公时间内），各大厅持续模拟取号、叫号、办结与评价",
            f"  日志：{self.logs}；按 Ctrl+C 停止全部",
        ]
        return "\n".join(lines)


def demo_id_number(seed: int) -> str:
    """A valid 18-digit resident ID number made from a seed (GB 11643 check digit): demo data only."""
    body = f"440305{1950 + seed % 50:04d}{1 + seed % 12:02d}{1 + seed % 28:02d}{seed % 1000:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


def main() -> int:
    """Run the demo city until Ctrl-C or SIGTERM."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    demo = Demo()
    stopping = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        stopping.set()
        demo.stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    try:
        print("正在启动演示城市：PostgreSQL、市级消息代理、汇聚入库、控制台和四个站点……", flush=True)
        demo.start()
        if stopping.is_set():
            return 0
        for site in demo.sites:
            if site.per_minute:
                threading.Thread(target=demo.traffic, args=(site,), name=f"traffic-{site.hall_id}", daemon=True).start()
        print(demo.banner(), flush=True)
        while not stopping.wait(1.0):
            demo.check_children()
        return 0
    except (RuntimeError, BrokerError, PostgresError, ProfileError, OSError) as exc:
        print(f"演示城市启动失败：{exc}", file=sys.stderr)
        return 1
    finally:
        print("正在停止演示城市……", flush=True)
        demo.shutdown()
        print("演示城市已停止。", flush=True)


if __name__ == "__main__":
    sys.exit(main())
