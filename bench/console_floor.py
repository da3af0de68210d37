"""Floor view benchmark: a generated hall of 100 windows (and 400+ devices) with 1,000 waiting tickets.

Measures, against the real server (uvicorn, SQLite file) and headless Debian Chromium:
- the snapshot API (GET /api/v1/floor) over HTTP;
- the floor page load: navigation start → first full render (the page's `floor-rendered` mark);
- live update latency: a manager's REST action → the change visible in the open page (via the server-sent
  event stream), timed by a MutationObserver in the page against the moment the request was sent.

    python -m bench.console_floor [--windows 100] [--waiting 1000] [--loads 5] [--actions 40]
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import uvicorn
import yaml
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from hallcore.clock import ManualClock, OffsetClock
from hallcore.commands import Identity, IssueTicket
from hallserver.app import build_context, create_app
from hallserver.db import session_scope, upgrade
from hallserver.services import auth, tickets, windows
from hallserver.settings import Settings
from tests.integration.helpers import id_number

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "firmware_config" / "halls" / "demo"
ZONE = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 23, 9, 0, tzinfo=ZONE)  # a Monday
PASSWORD = "Bench-floor-2026"
CHROME_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1366,900")


def big_hall(target: Path, n_windows: int) -> Path:
    """The demo hall (catalog, groups, hours, manager) with `n_windows` windows, their staff and devices."""
    shutil.copytree(DEMO, target)
    hall = yaml.safe_load((target / "hall.yaml").read_text(encoding="utf-8"))
    codes = [g["code"] for g in hall["groups"]]
    managers = [s for s in hall["staff"] if s.get("role") in ("manager", "admin")]
    staff = [
        {
            "id": f"b{i:03d}",
            "name": f"工作人员{i:03d}",
            "display_name": f"员工{i:03d}",
            "duties": "综合受理",
            "contact": f"0755-2660{i:04d}",
            "department": "区政务服务数据管理局",
        }
        for i in range(1, n_windows + 1)
    ]
    hall["staff"] = staff + managers
    hall["windows"] = [
        {
            "id": f"w{i:03d}",
            "name": f"{i}号窗口",
            "number": i,
            "kind": "分领域综合",
            "groups": [codes[i % len(codes)], codes[(i + 4) % len(codes)]] if i % 3 else [codes[i % len(codes)]],
            "staff": {"a": f"b{i:03d}", "b": f"b{i % n_windows + 1:03d}"},
            "floor": f"{1 + (i - 1) // 25}楼",
        }
        for i in range(1, n_windows + 1)
    ]
    for group in hall["groups"]:
        group["wait_alert_minutes"] = 120  # a realistic morning: only the worst queues alert
    (target / "hall.yaml").write_text(yaml.safe_dump(hall, allow_unicode=True, sort_keys=False), encoding="utf-8")
    devices = yaml.safe_load((target / "devices.yaml").read_text(encoding="utf-8"))
    keep = [d for d in devices["devices"] if "window" not in d]  # kiosks, their printers, hall displays
    for i in range(1, n_windows + 1):
        w = f"w{i:03d}"
        keep += [
            {"id": f"display-{w}", "type": "window_display", "name": f"{i}号窗口屏", "location": "大厅", "window": w},
            {"id": f"caller-{w}", "type": "caller", "name": f"{i}号窗口叫号", "location": "大厅", "window": w},
            {"id": f"eval-{w}", "type": "evaluator", "name": f"{i}号窗口评价器", "location": "大厅", "window": w},
            {
                "id": f"printer-{w}",
                "type": "printer",
                "name": f"{i}号窗口打印机",
                "location": "大厅",
                "window": w,
                "paper_width_mm": 80,
                "connection": {"type": "simulator"},
            },
        ]
    devices["devices"] = keep
    (target / "devices.yaml").write_text(yaml.safe_dump(devices, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def seed(settings: Settings, waiting: int, serving: int) -> datetime:
    """Issue `waiting + serving` tickets through the ticket service (10 s apart from 09:00), call `serving`
    windows; returns the hall time when done."""
    clock = ManualClock(START)
    ctx = build_context(settings, clock)
    from hallserver.db import make_engine

    engine = make_engine(settings.database_url)
    with session_scope(engine) as s:
        windows.sync_windows(s, ctx.profile, ctx.now())
        auth.set_password(s, ctx, "m01", PASSWORD)
    groups = [g.code for g in ctx.profile.groups]
    for i in range(waiting + serving):
        with session_scope(engine) as s:
            tickets.issue_ticket(
                s,
                ctx,
                IssueTicket(group=groups[i % len(groups)], identity=Identity(id_number=id_number(i), method="id_card")),
            )
        clock.advance(seconds=10)
    called = 0
    for w in ctx.profile.windows:
        if called >= serving:
            break
        with session_scope(engine) as s:
            if windows.call_next(s, ctx, w.id) is not None:
                called += 1
    engine.dispose()
    return clock.now()


def serve(settings: Settings, start: datetime) -> tuple[uvicorn.Server, threading.Thread, str]:
    """The hall server on a free loopback port, its clock running from `start`."""
    app = create_app(settings, OffsetClock(start))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{sock.getsockname()[1]}"


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


def summary(values: list[float]) -> str:
    return (
        f"p50 {statistics.median(values):7.1f}  p95 {pct(values, 95):7.1f}  max {max(values):7.1f}  (n={len(values)})"
    )


def measure_snapshot(http: httpx.Client, runs: int) -> tuple[list[float], int]:
    times, size = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        response = http.get("/api/v1/floor")
        times.append((time.perf_counter() - t0) * 1000)
        response.raise_for_status()
        size = len(response.content)
    return times, size


def measure_page_loads(
    driver: webdriver.Chrome, base: str, token: str, user: dict[str, Any], loads: int
) -> list[float]:
    driver.get(f"{base}/console/login")
    driver.execute_script(
        "sessionStorage.setItem('hallq.token', arguments[0]); sessionStorage.setItem('hallq.user', arguments[1]);",
        token,
        json.dumps(user),
    )
    out = []
    for _ in range(loads):
        driver.get(f"{base}/console/floor")
        deadline = time.monotonic() + 30
        mark = None
        while mark is None and time.monotonic() < deadline:
            mark = driver.execute_script(
                "const m = performance.getEntriesByName('floor-rendered'); return m.length ? m[0].startTime : null"
            )
            time.sleep(0.02)
        assert mark is not None, "the floor page never rendered"
        cards = driver.execute_script("return document.querySelectorAll('.wcard').length")
        assert cards >= 100, cards
        out.append(float(mark))
    return out


OBSERVER = """
window.__lat = [];
new MutationObserver(() => {
  const want = window.__want;
  if (!want) return;
  const card = document.getElementById('win-' + want.id);
  if (card && card.dataset.status === want.status) { window.__lat.push(Date.now()); window.__want = null; }
}).observe(document.getElementById('windows'), {childList: true, subtree: true, attributes: true});
"""


def measure_live(
    driver: webdriver.Chrome, http: httpx.Client, ids: list[str], actions: int
) -> tuple[list[float], list[float]]:
    """REST status changes → visible in the page; (end-to-end ms, REST round trip ms)."""
    deadline = time.monotonic() + 20
    while "实时" not in driver.execute_script("return document.getElementById('live-state').textContent"):
        assert time.monotonic() < deadline, "the floor page did not connect its live stream"
        time.sleep(0.05)
    driver.execute_script(OBSERVER)
    latencies, rest = [], []
    for k in range(actions):
        window_id = ids[(k * 37) % len(ids)]
        current = driver.execute_script(f"return document.getElementById('win-{window_id}').dataset.status")
        target = "paused" if current == "open" else "open"
        driver.execute_script("window.__want = {id: arguments[0], status: arguments[1]}", window_id, target)
        before = len(driver.execute_script("return window.__lat"))
        t0 = time.time() * 1000
        response = http.put(f"/api/v1/windows/{window_id}/status", json={"status": target})
        rest.append(time.time() * 1000 - t0)
        response.raise_for_status()
        end = time.monotonic() + 10
        while True:
            seen = driver.execute_script("return window.__lat")
            if len(seen) > before:
                latencies.append(seen[-1] - t0)
                break
            assert time.monotonic() < end, f"{window_id} never showed {target}"
            time.sleep(0.005)
        time.sleep(0.05)
    return latencies, rest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=100)
    parser.add_argument("--waiting", type=int, default=1000)
    parser.add_argument("--serving", type=int, default=60, help="windows with a called ticket at the start")
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--snapshots", type=int, default=20)
    parser.add_argument("--actions", type=int, default=40)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hallq-bench-floor-"))
    try:
        hall_dir = big_hall(work / "hall", args.windows)
        db = work / "hall.db"
        upgrade(f"sqlite:///{db}")
        settings = Settings(
            hall_dir=hall_dir, database_url=f"sqlite:///{db}", identity_key="k" * 32, secret_dir=work / "secret"
        )
        t0 = time.perf_counter()
        now = seed(settings, args.waiting, args.serving)
        print(
            f"hall: {args.windows} windows, {args.waiting} waiting tickets, {args.serving} being served "
            f"(seeded in {time.perf_counter() - t0:.1f} s; hall clock {now:%H:%M})"
        )
        server, thread, base = serve(settings, now + timedelta(minutes=1))
        http = httpx.Client(base_url=base, timeout=30)
        login = http.post("/api/v1/auth/login", json={"username": "m01", "password": PASSWORD}).json()
        http.headers["Authorization"] = f"Bearer {login['token']}"
        snapshot_ms, size = measure_snapshot(http, args.snapshots)
        floor = http.get("/api/v1/floor").json()
        waiting = sum(g["waiting"] for g in floor["groups"])
        print(
            f"floor: {len(floor['windows'])} windows, {waiting} waiting, {len(floor['devices'])} devices, "
            f"{len(floor['alerts'])} alerts; snapshot {size / 1024:.0f} KiB"
        )
        print(f"GET /api/v1/floor (ms)             {summary(snapshot_ms)}")
        driver = browser()
        try:
            loads = measure_page_loads(driver, base, login["token"], login["user"], args.loads)
            print(f"floor page load → rendered (ms)    {summary(loads)}")
            ids = [w["id"] for w in floor["windows"]]
            live, rest = measure_live(driver, http, ids, args.actions)
            print(f"REST action round trip (ms)        {summary(rest)}")
            print(f"REST action → visible in page (ms) {summary(live)}")
        finally:
            driver.quit()
            http.close()
            server.should_exit = True
            thread.join(timeout=10)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
