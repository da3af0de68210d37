"""Browser-test fixtures for the web console: the real app served by uvicorn on a free loopback port, with
its gateway on the real broker (tests/gateway/fixtures.py's `Bus`, reused), and a headless Debian Chromium
driven by Selenium through the system chromedriver. A missing browser is a failure, never a skip."""

from __future__ import annotations

import base64
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from hallcore.clock import ManualClock
from hallserver.app import create_app
from hallserver.db import session_scope
from hallserver.services import auth
from tests.bus.fixtures import HallBroker
from tests.conftest import TEST_PASSWORD, fresh_sqlite, hall_settings, login
from tests.gateway.fixtures import Bus

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENS = Path("/tmp/hallq-screens")
CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1366,900",
    "--lang=zh-CN",
)


@dataclass
class LiveHall:
    """The hall server running on a real port: `bus` as in the gateway tests, plus the base URL."""

    bus: Bus
    base_url: str
    server: uvicorn.Server

    @property
    def http(self) -> TestClient:
        """In-process HTTP on the same app (logged in as manager m01), for setting up and checking."""
        return self.bus.http

    def password(self, username: str) -> str:
        """Give a staff member the test password (through the real service)."""
        hall = self.bus.http.app.state.hall  # type: ignore[attr-defined]
        with session_scope(hall.engine) as s:
            auth.set_password(s, hall.ctx, username, TEST_PASSWORD)
        return TEST_PASSWORD

    def headers(self, username: str) -> dict[str, str]:
        """A bearer header for a staff member (a fresh login)."""
        return login(self.bus.http, username)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
def live_hall(broker: HallBroker, tmp_path: Path, sqlite_template: Path, clock: ManualClock) -> Iterator[LiveHall]:
    """The demo hall's app with gateway and broker, served over real HTTP by uvicorn in a thread."""
    settings = hall_settings(fresh_sqlite(sqlite_template, tmp_path), tmp_path, broker)
    app = create_app(settings, clock)
    sock = _free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="hallq-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start the hall server"
    http = TestClient(app)  # no `with`: uvicorn already ran the lifespan (gateway started)
    http.headers.update(login(http, "m01"))
    bus = Bus(broker, broker.secret_dir, broker.hall, broker.devices, clock, http)
    assert bus.gateway.client.wait_connected(5), "the server's gateway did not connect to the broker"
    bus.gateway.drain()
    try:
        yield LiveHall(bus, f"http://127.0.0.1:{port}", server)
    finally:
        for client in bus.clients:
            client.stop()
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def _require_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(
            f"浏览器测试需要 Debian 的 chromium 和 chromium-driver，缺少：{', '.join(missing)}"
            " — install them with `apt-get install chromium chromium-driver`",
            pytrace=False,
        )


@pytest.fixture
def driver() -> Iterator[webdriver.Chrome]:
    """Headless Debian Chromium with a fresh profile, through the system chromedriver."""
    _require_browser()
    profile = Path(tempfile.mkdtemp(prefix="hallq-chromium-"))
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    # The browser's own widgets (date pickers) follow the process locale, as on the hall's PCs.
    service = Service(str(CHROMEDRIVER), env={**os.environ, "LANG": "zh_CN.UTF-8", "LANGUAGE": "zh_CN:zh"})
    chrome = webdriver.Chrome(service=service, options=options)
    chrome.set_page_load_timeout(30)
    try:
        yield chrome
    finally:
        chrome.quit()
        shutil.rmtree(profile, ignore_errors=True)


@dataclass
class Console:
    """A browser on the live hall: log in through the page, open pages, wait, screenshot."""

    hall: LiveHall
    driver: webdriver.Chrome

    def url(self, path: str) -> str:
        return self.hall.base_url + path

    def open(self, path: str) -> None:
        """Load a console path, e.g. /console/staff."""
        self.driver.get(self.url(path))

    def login(self, username: str, then: str | None = None) -> None:
        """Log in through the login page (the password is set first); optionally go on to a page."""
        password = self.hall.password(username)
        self.open("/console/login" + (f"?next={then}" if then else ""))
        self.find("#username").send_keys(username)
        self.find("#password").send_keys(password)
        self.find("#login-submit").click()
        self.wait(lambda d: "/console/login" not in d.current_url, "login did not leave the login page")
        self.wait_ready()

    def wait_ready(self) -> None:
        """Wait until the page's header (drawn by common.js boot()) is there."""
        self.find("#top .who")

    def ready(self, timeout: float = 10) -> None:
        """Wait until the page says it finished loading (`document.body.dataset.ready = "1"`)."""
        self.find("body[data-ready='1']", timeout)

    def find(self, css: str, timeout: float = 10) -> WebElement:
        """The first visible element matching css, waiting for it."""

        def visible(d: webdriver.Chrome) -> WebElement | bool:
            try:
                return next((e for e in d.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()), False)
            except StaleElementReferenceException:  # re-rendered meanwhile: look again
                return False

        return self.wait(visible, f"no visible {css}", timeout)

    def all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str, timeout: float = 10) -> str:
        return self.find(css, timeout).text

    def wait_text(self, css: str, expected: str, timeout: float = 10) -> str:
        """Wait until the element's text contains `expected`; returns the text."""

        def has(d: webdriver.Chrome) -> str | bool:
            try:
                return next((str(e.text) for e in d.find_elements(By.CSS_SELECTOR, css) if expected in e.text), False)
            except StaleElementReferenceException:
                return False

        return self.wait(has, f"{css} never showed {expected!r}", timeout)

    def wait(self, until: Callable[[webdriver.Chrome], Any], message: str, timeout: float = 10) -> Any:
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(until)
        except TimeoutException:
            self.screenshot("failure")
            raise AssertionError(f"{message}; browser log: {self.log()[-5:]}") from None

    def log(self) -> list[str]:
        """Console messages of the page (errors show here)."""
        try:
            return [e["message"] for e in self.driver.get_log("browser")]
        except Exception:  # not every driver keeps a log
            return []

    def screenshot(self, name: str) -> Path:
        """Save the whole page to /tmp/hallq-screens/console-<name>.png."""
        SCREENS.mkdir(parents=True, exist_ok=True)
        path = SCREENS / f"console-{name}.png"
        size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        if self.driver.find_elements(By.CSS_SELECTOR, "dialog[open]"):  # a modal: what the user sees
            size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssLayoutViewport"]
            size = {"width": size["clientWidth"], "height": size["clientHeight"]}
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 4000), "scale": 1},
            },
        )
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


@pytest.fixture
def console(live_hall: LiveHall, driver: webdriver.Chrome) -> Console:
    """A headless Chromium on the live demo hall (not logged in yet)."""
    return Console(live_hall, driver)
