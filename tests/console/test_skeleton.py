"""The console skeleton: pages and static files are served locally, login works, the nav follows the role."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hallserver.console.router import PAGES, STATIC
from tests.console import conftest as fixtures
from tests.console.conftest import Console, LiveHall


def test_login_and_role_nav(console: Console) -> None:
    console.open("/console/")
    console.find("#login-form")
    console.wait_text("#hall-name", "南山区政务服务中心")
    console.screenshot("login")
    console.login("s01")
    assert console.driver.current_url.endswith("/console/staff")
    nav = console.text("#nav")
    assert "窗口工作台" in nav and "评价整改" not in nav and "大厅监控" not in nav


def test_a_manager_lands_on_an_installed_page(console: Console) -> None:
    console.login("m01")
    console.wait_ready()
    assert "/console/" in console.driver.current_url and "/console/login" not in console.driver.current_url
    assert "评价整改" in console.text("#nav")


def test_everything_is_served_locally(live_hall: LiveHall) -> None:
    """The hall LAN is offline: no page or asset refers to another host, fonts are the system's."""
    for path in sorted([*PAGES.glob("*.html"), *STATIC.glob("*")]):
        text = path.read_text(encoding="utf-8")
        # loads from another host: src/href attributes, CSS url(), ES imports, fetch/EventSource
        loads = "|".join(
            (
                r"""(src|href)\s*=\s*["']?(https?:)?//""",
                r"""url\(\s*["']?(https?:)?//""",
                r"""from\s+["'](https?:)?//""",
                r"""(fetch|EventSource)\(\s*["'`](https?:)?//""",
            )
        )
        assert not re.search(loads, text, re.I), f"{path.name} loads something from another host"
        assert "@import" not in text and "@font-face" not in text, path.name
    http = live_hall.http
    js = http.get("/console/static/common.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert js.headers["cache-control"] == "no-cache"
    assert "Noto Sans CJK SC" in http.get("/console/static/console.css").text
    assert http.get("/console/nope").status_code == 404
    assert http.get("/console/..%2Fapp.py").status_code == 404


def test_a_missing_browser_fails_clearly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(fixtures, "CHROMIUM", tmp_path / "no-chromium")
    with pytest.raises(pytest.fail.Exception, match="chromium-driver"):
        fixtures._require_browser()
