"""The city console in headless Chromium at 1366 px: log in through the form, read every hall's state, the
alerts, a month report by level and hall, the overdue list; nothing overflows the width; logout locks it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import Engine

from city.api import create_city_app
from city.auth import set_user
from city.settings import CitySettings
from city.store import Store
from hallcore.clock import ManualClock
from tests.city.conftest import NOW
from tests.city.test_api import PASSWORD, seed
from tests.console.conftest import _free_socket, driver  # noqa: F401  (the headless Chromium fixture)

SCREENS = Path("/tmp/hallq-screens")


@pytest.fixture
def city_site(city_url: str, city_engine: Engine, city_clock: ManualClock, store: Store) -> Iterator[str]:
    """The city app with seeded records, served by uvicorn on a free loopback port; its base URL."""
    seed(store, city_engine)
    set_user(city_engine, "viewer", PASSWORD, "viewer", "区监管员", NOW)
    app = create_city_app(CitySettings(database_url=city_url), clock=city_clock)
    sock = _free_socket()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start the city app"
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=15)
    sock.close()


def _shot(d: webdriver.Chrome, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    d.save_screenshot(str(SCREENS / f"city-{name}-1366.png"))


def _fits(d: webdriver.Chrome) -> None:
    width = d.execute_script("return document.documentElement.scrollWidth")
    assert width <= 1366, f"the page is {width} px wide: it scrolls sideways at 1366"


def _text(d: webdriver.Chrome, css: str) -> str:
    return str(d.find_element(By.CSS_SELECTOR, css).text)


def _wait_text(d: webdriver.Chrome, css: str, expected: str) -> None:
    """Wait until the element shows `expected` (the page may still be replacing the old one)."""

    def shows(x: webdriver.Chrome) -> bool:
        try:
            return expected in x.find_element(By.CSS_SELECTOR, css).text
        except (NoSuchElementException, StaleElementReferenceException):
            return False

    WebDriverWait(d, 10, ignored_exceptions=(StaleElementReferenceException,)).until(shows)


def _go(d: webdriver.Chrome, link: str, path: str, title: str) -> None:
    """Follow a nav link and wait for its page (its address and its heading)."""
    d.find_element(By.LINK_TEXT, link).click()
    WebDriverWait(d, 10).until(lambda x: x.current_url.split("?")[0].endswith(path))
    _wait_text(d, "h1", title)


def test_city_console_in_chromium(city_site: str, driver: webdriver.Chrome) -> None:  # noqa: F811
    d = driver
    d.get(city_site + "/console/halls")
    assert d.current_url.endswith("/console/"), "not logged in: the login form"
    d.find_element(By.ID, "username").send_keys("viewer")
    d.find_element(By.ID, "password").send_keys("wrong-pass-1")
    d.find_element(By.ID, "login-submit").click()
    _wait_text(d, "#login-error", "用户名或密码错误")
    d.find_element(By.ID, "password").send_keys(PASSWORD)
    d.find_element(By.ID, "login-submit").click()
    WebDriverWait(d, 10).until(lambda x: x.current_url.endswith("/console/halls"))
    _wait_text(d, "#who", "区监管员")
    rows = {r.get_attribute("data-hall"): r.text for r in d.find_elements(By.CSS_SELECTOR, "#halls tbody tr")}
    assert set(rows) == {"0001", "0002", "0003"}
    assert "南山区政务服务中心" in rows["0001"] and "2 离线" in rows["0001"]
    assert "从未上报" in rows["0003"]
    assert _text(d, "#stat-waiting") == "15"
    _fits(d)
    _shot(d, "halls")

    _go(d, "告警", "/console/alerts", "跨大厅告警")
    alerts = _text(d, "#alerts")
    assert "2 台设备离线" in alerts and "最长等候已达 41 分钟" in alerts and "办件超期 1 件" in alerts
    _fits(d)

    _go(d, "统计报表", "/console/reports", "统计报表")
    assert [r.get_attribute("data-key") for r in d.find_elements(By.CSS_SELECTOR, "#report tbody tr")] == ["区", "街道"]
    Select(d.find_element(By.ID, "by")).select_by_value("hall")
    d.find_element(By.CSS_SELECTOR, "#report-form button").click()
    WebDriverWait(d, 10).until(lambda x: "by=hall" in x.current_url)
    _wait_text(d, "h1", "统计报表")
    first = d.find_element(By.CSS_SELECTOR, "#report tbody tr")
    assert first.get_attribute("data-key") == "0001" and "南山区政务服务中心" in first.text
    _fits(d)
    _shot(d, "reports")

    _go(d, "超期清单", "/console/overdue", "超期清单")
    kinds = [r.get_attribute("data-kind") for r in d.find_elements(By.CSS_SELECTOR, "#overdue tbody tr")]
    assert kinds == ["rectification", "case"]
    assert "a" * 64 not in d.page_source, "no identity hash on any page"
    _fits(d)
    _shot(d, "overdue")

    d.find_element(By.ID, "logout").click()
    WebDriverWait(d, 10).until(lambda x: x.current_url.endswith("/console/"))
    d.get(city_site + "/console/overdue")
    assert d.current_url.endswith("/console/"), "after logout the pages are locked again"
