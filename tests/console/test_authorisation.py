"""Authorisation at page level in the browser: staff see only their nav, manager pages say 无权访问 and get
no data (the API refuses), pages need a login, and a staff member's console offers only their windows.
(API-level checks: test_window_paperwork.py; the rater's identity: test_desk.py.)"""

from __future__ import annotations

import re

from hallserver.console.router import PAGES
from tests.console.conftest import Console, LiveHall

API = "/api/v1"


def manager_pages() -> list[str]:
    """Every console page whose shell is limited to chief/manager/admin (console B's pages included)."""
    out = []
    for page in sorted(PAGES.glob("*.html")):
        roles = re.search(r'data-roles="([^"]*)"', page.read_text(encoding="utf-8"))
        if roles and roles.group(1) and "staff" not in roles.group(1).split(","):
            out.append(page.stem)
    return out


def test_staff_cannot_open_manager_pages(console: Console, live_hall: LiveHall) -> None:
    pages = manager_pages()
    assert "desk" in pages
    console.login("s06", then="/console/staff")
    console.ready()
    nav = console.text("#nav")
    assert nav == "窗口工作台\n办件管理\n投诉与办不成事", nav  # the case desk shows their own department's cases only
    options = [o.get_attribute("value") for o in console.all("#window-select option")]
    assert options == ["w06"]
    for page in pages:
        console.open(f"/console/{page}")
        console.ready()
        assert "无权访问" in console.text("#denied"), page
        console.screenshot(f"denied-{page}")
    # The shell is only cosmetic: the data behind the desk is refused by the server.
    headers = live_hall.headers("s06")
    assert live_hall.http.get(f"{API}/rectifications", headers=headers).status_code == 403
    assert live_hall.http.get(f"{API}/evaluations", headers=headers).status_code == 403


def test_pages_need_a_login_and_logout_ends_it(console: Console) -> None:
    console.open("/console/desk")
    console.wait(lambda d: "/console/login?next=%2Fconsole%2Fdesk" in d.current_url, "no redirect to the login page")
    console.find("#password").send_keys("wrong-password-1")
    console.find("#username").send_keys("m01")
    console.find("#login-submit").click()
    assert console.wait_text("#login-error", "用户名或密码错误")
    console.login("m01", then="/console/desk")
    assert console.driver.current_url.endswith("/console/desk")
    assert all(label in console.text("#nav") for label in ("窗口工作台", "大厅监控", "评价整改", "统计报表"))
    console.find("#logout").click()
    console.wait(lambda d: d.current_url.endswith("/console/login"), "logout did not return to the login page")
    console.open("/console/staff")
    console.wait(lambda d: "/console/login" in d.current_url, "a logged-out browser reached the staff console")


def test_a_chief_works_only_their_departments_windows(console: Console) -> None:
    console.login("s05", then="/console/staff")  # 首席代表 of 市公安局
    console.ready()
    options = {o.get_attribute("value"): o.text for o in console.all("#window-select option")}
    assert "w05" in options and "w01" not in options and "（A角）" in options["w05"]
    assert "评价整改" in console.text("#nav")
    console.open("/console/desk")
    console.ready()
    assert not console.all("#denied")
