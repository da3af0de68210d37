"""Screenshots of every staff console page at 1366 and 1920 pixels wide, on a demo hall with a morning of work.

    .venv/bin/python scripts/console_screens.py [--out docs/screenshots] [--widths 1366,1920]

Not part of `make test`: it is how the console's looks are reviewed (and the README's pictures are made). It
starts the real server on a throwaway migrated SQLite database (the demo hall, on a hand-moved clock from
Monday 2026-11-23 09:00), plays a morning through the REST API — tickets, calls, visits with each outcome, ratings
and one 差评 — and opens each page in headless Debian Chromium, logged in through the login page as the role that
uses it. Files: <out>/console-<page>-<width>.png (the whole page, up to 3000 px tall)."""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import uvicorn  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from hallcore.clock import ManualClock  # noqa: E402
from hallserver.app import create_app  # noqa: E402
from hallserver.db import session_scope, upgrade  # noqa: E402
from hallserver.services import auth  # noqa: E402
from hallserver.settings import Settings  # noqa: E402
from tests.integration.helpers import id_number  # noqa: E402
from tests.rating_proofs import proven  # noqa: E402

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
PASSWORD = "screens2026"
START = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
RESIDENCE = "11440300MB2D41730K000172102000000"  # 居住证申领 (police queue)
API = "/api/v1"

# page, who looks at it, what to wait for before the picture
PAGES: tuple[tuple[str, str, str], ...] = (
    ("login", "", "#login-form"),
    ("staff", "s05", "body[data-ready='1'] #visit-table"),
    ("floor", "m01", "body[data-ready='1'] #calls li b"),
    ("desk", "m01", "body[data-ready='1']"),
    ("reports", "m01", "body[data-ready='1'] #report-table"),
    ("reports-assessment", "m01", "body[data-ready='1'] #assessment-table"),
)


class Morning:
    """A morning at the demo hall played through the REST API on the hand-moved clock."""

    def __init__(self, http: TestClient, clock: ManualClock) -> None:
        self.http, self.clock = http, clock
        self.seed = 100

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = self.http.post(f"{API}/{path}", json=body)
        if answer.status_code >= 400:
            raise RuntimeError(f"{path}: {answer.status_code} {answer.text}")
        return answer.json()

    def ticket(self, **body: Any) -> Any:
        self.seed += 1
        if "item_code" in body:
            body["identity"] = {"method": "id_card", "id_number": id_number(self.seed), "name": "张小三"}
        return self.post("tickets", body)

    def serve(self, window: str, minutes: float, finish: dict[str, Any]) -> int | None:
        """Call, serve for `minutes` and finish at a window: the visit id when the finish made one."""
        if self.post(f"windows/{window}/call-next").get("ticket") is None:
            return None
        self.post(f"windows/{window}/start")
        self.clock.advance(minutes=minutes)
        self.post(f"windows/{window}/finish", finish)
        visits = self.http.get(f"{API}/visits", params={"window_id": window}).json()
        return int(visits[-1]["id"]) if visits else None

    def play(self) -> None:
        for _ in range(6):
            self.ticket(item_code=RESIDENCE)
            self.ticket(group="consult")
            self.clock.advance(minutes=3)
        rated = []
        for minutes, finish in ((6, {"outcome": "受理"}), (9, {"outcome": "受理"})):
            rated.append(self.serve("w05", minutes, finish))
        rated.append(self.serve("w16", 4, {"outcome": "咨询"}))
        rated.append(self.serve("w16", 7, {"outcome": "咨询"}))
        rated.append(self.serve("w17", 5, {"outcome": "咨询"}))
        for visit, level in zip(rated, (5, 5, 4, 1, 5), strict=True):
            if visit is not None:
                self.post("evaluations", proven(self.http, {"visit_id": visit, "level": level}))
        self.clock.advance(minutes=2)
        self.post("windows/w05/call-next")
        self.post("windows/w05/start")  # 5号窗口 is serving when the pictures are taken
        self.clock.advance(minutes=4)


@contextmanager
def hall_server(folder: Path) -> Iterator[tuple[str, ManualClock]]:
    """The demo hall served by uvicorn on a free port, with a morning already played: (base URL, clock)."""
    url = f"sqlite:///{folder / 'hall.db'}"
    upgrade(url)
    clock = ManualClock(START)
    settings = Settings(database_url=url, secret_dir=folder / "secret", identity_key="screens-identity-key")
    app = create_app(settings, clock)
    hall = app.state.hall
    with session_scope(hall.engine) as s:
        for user in {who for _, who, _ in PAGES if who}:
            auth.set_password(s, hall.ctx, user, PASSWORD)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    http = TestClient(app)
    token = http.post(f"{API}/auth/login", json={"username": "m01", "password": PASSWORD}).json()["token"]
    http.headers["Authorization"] = f"Bearer {token}"
    Morning(http, clock).play()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", clock
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def browser(width: int) -> webdriver.Chrome:
    """Headless Debian Chromium `width` pixels wide, Chinese locale (as on the hall's PCs)."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=zh-CN"):
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},900")
    # The browser's own widgets (the date picker) follow the process locale, as on the hall's PCs.
    service = Service(CHROMEDRIVER, env={**os.environ, "LANG": "zh_CN.UTF-8", "LANGUAGE": "zh_CN:zh"})
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    return driver


def wait(driver: webdriver.Chrome, css: str, timeout: float = 15) -> None:
    found: Callable[[webdriver.Chrome], bool] = lambda d: bool(d.find_elements(By.CSS_SELECTOR, css))  # noqa: E731
    WebDriverWait(driver, timeout, poll_frequency=0.1).until(found, f"{css} never appeared")


def login(driver: webdriver.Chrome, base: str, user: str, page: str) -> None:
    driver.get(f"{base}/console/login?next=/console/{page}")
    wait(driver, "#login-form")
    driver.find_element(By.ID, "username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    WebDriverWait(driver, 15).until(lambda d: "/console/login" not in d.current_url)


def shoot(driver: webdriver.Chrome, path: Path) -> None:
    """The whole page (its content height, at most 3000 px) as PNG."""
    time.sleep(0.3)  # let fonts and the last render settle: a picture, not an assertion
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 3000), "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    path.write_bytes(base64.b64decode(shot["data"]))
    wide = driver.execute_script("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    if wide[0] > wide[1]:
        print(f"  注意：{path.name} 比窗口宽 {wide[0] - wide[1]} px（出现横向滚动条）")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--widths", default="1366,1920", help="comma-separated window widths")
    args = parser.parse_args()
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not Path(binary).exists():
            sys.exit(
                f"需要 Debian 的 chromium 和 chromium-driver（缺少 {binary}）：apt-get install chromium chromium-driver"
            )
    args.out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="hallq-screens-"))
    try:
        with hall_server(folder) as (base, _clock):
            for width in (int(w) for w in args.widths.split(",")):
                for page, user, ready in PAGES:
                    driver = browser(width)
                    try:
                        if user:
                            login(driver, base, user, page)
                        else:
                            driver.get(f"{base}/console/")
                        wait(driver, ready)
                        path = args.out / f"console-{page}-{width}.png"
                        shoot(driver, path)
                        print(path)
                    finally:
                        driver.quit()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
