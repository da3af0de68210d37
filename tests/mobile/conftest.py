"""Phone-page fixtures: the demo hall's app served by uvicorn on a free port (no bus needed), one headless
Chromium emulating a 375x812 phone for the whole module, and helpers to make visits, tickets and cases
through the real REST API. A missing browser is a failure, never a skip (tests/console/conftest.py)."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from hallcore.clock import ManualClock
from hallserver.app import create_app
from hallserver.db import session_scope
from hallserver.models import Visit
from hallserver.services import rating_proof
from tests.conftest import fresh_sqlite, hall_settings, local, login
from tests.console.conftest import _free_socket
from tests.console.conftest import driver as _console_driver

API = "/api/v1"
ITEM = "11440300MB2D41730K000172102000000"  # 居住证申领 (市公安局)
SHOTS = Path("/tmp/hallq-mobile")
PHONE = {"width": 375, "height": 812, "deviceScaleFactor": 1, "mobile": True}


@dataclass
class Phone:
    """A phone's browser on the live hall, plus the in-process client (logged in as manager m01) to set up."""

    base_url: str
    http: TestClient
    driver: webdriver.Chrome
    clock: ManualClock

    @property
    def hall(self) -> Any:
        return self.http.app.state.hall  # type: ignore[attr-defined]

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def find(self, css: str, timeout: float = 10) -> WebElement:
        return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(
            lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()), False)
        )

    def text(self) -> str:
        return str(self.driver.find_element(By.TAG_NAME, "body").text)

    def fits(self) -> None:
        """The page fits the phone's width (no sideways scrolling) and its text is large."""
        width = self.driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"page is {width}px wide on a {PHONE['width']}px phone"
        size = self.driver.execute_script("return parseFloat(getComputedStyle(document.body).fontSize)")
        assert size >= 18, size

    def screenshot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": PHONE["width"], "height": min(size["height"], 3000), "scale": 1},
            },
        )
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    # --- setting the hall up through the real API ---

    def ticket(self, identity: dict[str, str] | None = None, item: str = ITEM) -> dict[str, Any]:
        body: dict[str, Any] = {"item_code": item}
        if identity:
            body["identity"] = identity
        response = self.http.post(f"{API}/tickets", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def serve(self, window: str = "w05", outcome: str = "咨询") -> dict[str, Any]:
        """Call, start and finish the next ticket at a window; the newest visit of that window."""
        for step, body in (("call-next", None), ("start", None), ("finish", {"outcome": outcome})):
            response = self.http.post(f"{API}/windows/{window}/{step}", json=body)
            assert response.status_code == 200, (step, response.text)
        visits = self.http.get(f"{API}/visits", params={"window_id": window}).json()
        return dict(visits[-1])

    def rating_link(self, visit_id: int) -> str:
        with session_scope(self.hall.engine) as s:
            visit = s.get(Visit, visit_id)
            assert visit is not None
            return rating_proof.rating_token(self.hall.ctx, visit)


@pytest.fixture(scope="module")
def phone(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Phone]:
    """The live demo hall on Monday 2026-11-23 09:00, and one Chromium emulating a 375x812 phone."""
    tmp = tmp_path_factory.mktemp("mobile")
    clock = ManualClock(local(2026, 11, 23, 9, 0))
    sock = _free_socket()
    port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    app = create_app(hall_settings(fresh_sqlite(sqlite_template, tmp), tmp, public_url=base), clock)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="hallq-mobile", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start the hall server"
    http = TestClient(app)
    http.headers.update(login(http, "m01"))
    drivers = _console_driver.__wrapped__()  # type: ignore[attr-defined]
    chrome = next(drivers)
    chrome.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    try:
        yield Phone(base, http, chrome, clock)
    finally:
        next(drivers, None)
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
