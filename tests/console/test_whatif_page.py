"""The 调度推演 page in headless Chromium: the demo manager runs a what-if with an extra window and sees the
same numbers the API gives, then adds an overflow rule that lands in hall.yaml (a copy) and the audit log,
and deletes it again."""

from __future__ import annotations

import shutil
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from sqlmodel import Session, col, select

from firmware_config.hall import load_hall_profile
from hallserver.models import AuditEntry
from tests.conftest import DEMO_HALL
from tests.console.conftest import Console

API = "/api/v1"


def _fmt(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}"


def test_whatif_page_runs_a_proposal_and_edits_overflow_rules(console: Console, tmp_path: Path) -> None:
    http = console.hall.http
    hall_file = tmp_path / "hall" / "hall.yaml"
    shutil.copytree(DEMO_HALL, hall_file.parent)
    http.app.state.hall_file = hall_file  # type: ignore[attr-defined]  # never write the repository's demo hall
    for group in ("consult",) * 6 + ("complaint",) * 3:
        assert http.post(f"{API}/tickets", json={"group": group}).status_code == 201
    console.hall.bus.clock.advance(minutes=20)

    console.login("m01", then="/console/whatif")
    console.ready()
    assert "调度推演" in console.text("#nav .active")
    basis = console.text("#basis")
    assert "现在 09:20" in basis and "正在等候 9 人" in basis and "开放窗口 20 个" in basis

    console.find("#extra-groups input[value='consult']").click()
    console.find("#add-extra").click()
    assert console.wait_text("#changes", "增开 1 个窗口办理：综合咨询")
    Select(console.find("#move-window")).select_by_value("w18")
    console.find("#move-groups input[value='consult']").click()
    console.find("#move-groups input[value='complaint']").click()
    console.find("#add-move").click()
    assert console.wait_text("#changes", "18号窗口改办：综合咨询、办不成事反映")
    console.find("#run").click()
    console.find("body[data-result='1'] #summary", timeout=20)

    expected = http.post(
        f"{API}/whatif",
        json={
            "moves": [{"window_id": "w18", "groups": ["consult", "complaint"]}],
            "extra_windows": [{"groups": ["consult"], "count": 1}],
        },
    ).json()
    row = console.find("#summary tr[data-metric='mean_wait']")
    assert row.find_element(By.CSS_SELECTOR, ".base").text == _fmt(expected["baseline"]["mean_wait"])
    assert row.find_element(By.CSS_SELECTOR, ".prop").text == _fmt(expected["proposal"]["mean_wait"])
    served = console.find("#summary tr[data-metric='served'] .prop").text
    assert served == str(expected["proposal"]["served"])
    assert "等候超过 60 分钟的人数" in console.text("#summary")
    assert console.text("#result-changes") == "调整方案：" + "；".join(expected["changes"])
    assert expected["changes"] == ["18号窗口改办：办不成事反映、综合咨询", "增开 1 个窗口办理：综合咨询"]
    extra = console.find("#windows-table tr[data-window='x01']").text
    assert "增开窗口1" in extra and "综合咨询" in extra
    assert "综合咨询" in console.text("#groups-table tr[data-group='consult']")
    width = console.driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= 1366, f"the page is {width}px wide at 1366"
    console.screenshot("whatif")

    console.find("#apply").click()  # the reallocation goes live through the managers' window route
    console.find("#apply-confirm").click()
    console.wait_text("#move-window", "18号窗口（现办：办不成事反映、综合咨询）")
    assert http.get(f"{API}/windows/w18").json()["groups"] == ["complaint", "consult"]
    assert "18号窗口改办" not in console.text("#changes")  # applied: no longer a proposal
    assert "增开 1 个窗口办理：综合咨询" in console.text("#changes")  # cannot be applied: it stays

    Select(console.find("#rule-group")).select_by_value("consult")
    after = console.find("#rule-after")
    after.clear()
    after.send_keys("15")
    console.find("#rule-windows input[value='w01']").click()
    console.find("#rule-windows input[value='w02']").click()
    console.find("#rule-add").click()
    row_text = console.wait_text("#rules tr[data-index='0']", "综合咨询")
    assert "1号窗口、2号窗口" in row_text and "15 分钟" in row_text
    rules = load_hall_profile(hall_file).allocation.overflow
    assert [(r.group, r.windows, r.after_minutes) for r in rules] == [("consult", ("w01", "w02"), 15)]
    assert http.app.state.hall.ctx.profile.allocation.overflow == rules  # type: ignore[attr-defined]
    console.screenshot("whatif-rule")

    console.find("#rules tr[data-index='0'] .btn-danger").click()
    console.find("#remove-confirm").click()
    console.wait_text("#rules", "尚未设置分流规则")
    assert load_hall_profile(hall_file).allocation.overflow == ()
    with Session(http.app.state.hall.engine) as s:  # type: ignore[attr-defined]
        entries = s.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
    assert [(e.actor, e.action) for e in entries] == [("m01", "overflow_rule_add"), ("m01", "overflow_rule_remove")]

    # A department's chief (首席代表) sees 无权访问, and the API refuses them too.
    console.find("#logout").click()
    console.wait(lambda d: d.current_url.endswith("/console/login"), "logout did not return to the login page")
    console.login("s05", then="/console/whatif")
    console.ready()
    assert "无权访问" in console.text("#denied") and "调度推演" not in console.text("#nav")
    assert http.post(f"{API}/whatif", json={}, headers=console.hall.headers("s05")).status_code == 403
