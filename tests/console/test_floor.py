"""The manager's floor view in headless Chromium on the live hall: the whole floor renders; reallocating a
window makes its next call come from the new group; a device's last will shows it offline without a
reload; pause, A/B swap and a broadcast notice work from the page. Plus the alerts rules on a fixed clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.by import By

from broker.messages import DeviceStatus
from hallserver.api import live as live_api
from hallserver.presentation import alerts
from tests.console.conftest import Console
from tests.console.test_live import device_with_last_will
from tests.integration.helpers import id_number

SHANGHAI = ZoneInfo("Asia/Shanghai")


def open_floor(console: Console, username: str = "m01") -> None:
    console.login(username, then="/console/floor")
    console.ready()
    console.wait_text("#live-state", "实时")


def chip(driver: object, device_id: str = "caller-w07") -> dict[str, str]:
    """A device chip's class and data-online, read in one script (chips are replaced on every update)."""
    script = (
        "const e = document.getElementById(arguments[0]);return e ? {class: e.className, online: e.dataset.online} : {}"
    )
    return driver.execute_script(script, f"dev-{device_id}")  # type: ignore[attr-defined]


def card(console: Console, window_id: str) -> str:
    return console.text(f"#win-{window_id}")


def test_floor_shows_every_window_group_and_device(console: Console) -> None:
    open_floor(console)
    assert len(console.all(".wcard")) == 20
    assert "王丽" in card(console, "w01") and "空闲" in card(console, "w01")
    groups = console.text("#groups")
    assert "公安服务" in groups and "综合咨询" in groups
    assert len(console.all(".dchip")) == 90
    assert "设备尚未上线" in console.text("#alerts")
    console.screenshot("floor")


def test_reallocated_window_calls_from_its_new_group(console: Console) -> None:
    http = console.hall.http
    open_floor(console)
    police = http.post(
        "/api/v1/tickets", json={"group": "police", "identity": {"method": "id_card", "id_number": id_number(7)}}
    )
    assert police.json()["ticket"] == "A001"
    console.wait_text("#groups tr[data-group='police'] .waiting", "1")

    console.find("#win-w05 .act-groups").click()
    form = console.find("#groups-form")
    form.find_element(By.CSS_SELECTOR, "input[value='police']").click()  # untick 公安服务
    form.find_element(By.CSS_SELECTOR, "input[value='consult']").click()  # tick 综合咨询
    console.screenshot("floor-reallocate")
    console.find("#groups-save").click()
    console.wait_text("#win-w05 .tags", "综合咨询")
    assert "公安服务" not in console.text("#win-w05 .tags")

    assert http.post("/api/v1/tickets", json={"group": "consult"}).json()["ticket"] == "G001"
    called = http.post("/api/v1/windows/w05/call-next").json()
    assert called["ticket"]["number"] == "G001"  # A001 waited longer, but w05 no longer serves police
    console.wait_text("#win-w05 .serving-line", "G001")  # live, no reload
    console.wait_text("#calls", "请G001号到5号窗口办理")
    console.screenshot("floor-after-call")


def test_device_going_offline_shows_live(console: Console) -> None:
    open_floor(console)
    console.driver.execute_script("window.__noReload = true")
    with device_with_last_will(console.hall, "caller-w07", "caller") as proc:
        console.wait(lambda d: chip(d).get("online") == "1", "the device never showed online")
        proc.kill()  # the broker publishes its last will: offline
    console.wait(lambda d: "offline" in chip(d).get("class", ""), "the device never showed offline")
    console.wait_text("#alerts", "7号窗口叫号离线")
    assert console.driver.execute_script("return window.__noReload") is True
    console.screenshot("floor-device-offline")


def test_pause_swap_staff_and_broadcast_from_the_floor(console: Console) -> None:
    _, display = console.hall.bus.device(
        "display-w01", console.hall.bus.topics.device("display-w01", "notice"), replies=False
    )
    open_floor(console)
    console.find("#win-w03 .act-status").click()
    form = console.find("#status-form")
    form.find_element(By.CSS_SELECTOR, "input[value='paused']").click()
    form.find_element(By.NAME, "reason").send_keys("午间轮休")
    console.find("#status-save").click()
    console.wait_text("#win-w03", "暂停服务")
    assert "午间轮休" in card(console, "w03")

    console.find("#win-w03 .act-staff").click()
    console.wait_text("#win-w03 .on-duty", "郑浩")  # w03's B角 s23
    assert "B角在岗" in card(console, "w03")

    console.find("#notice-post").click()
    console.find("dialog input[name='notice']").send_keys("系统升级，16:00后暂停取号")
    console.find("dialog button.btn-primary").click()
    console.wait_text("#notice-text", "系统升级")
    notice = display.wait_for(lambda t, p: p is not None and p.get("type") == "broadcast")
    assert notice is not None and notice["message"] == "系统升级，16:00后暂停取号"
    console.screenshot("floor-actions")
    console.find("#notice-clear").click()
    console.wait(lambda d: d.find_element(By.ID, "notice-text").text == "无", "notice not cleared")


def test_chief_sees_the_floor_without_controls_and_staff_cannot_open_it(console: Console) -> None:
    open_floor(console, "s05")
    assert not console.all(".wcard .wactions") and console.find("#live-state").text != ""
    assert not console.driver.find_element(By.ID, "notice-post").is_displayed()
    console.driver.delete_all_cookies()
    console.driver.execute_script("sessionStorage.clear()")
    console.login("s01", then="/console/floor")
    console.open("/console/floor")
    console.wait_text("#denied", "无权访问")


# --- alert rules on a fixed clock ---

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)


def group(code: str, waiting: int, longest: int, limit: int = 30, estimate: int | None = 5) -> dict[str, object]:
    return {
        "group": code,
        "name": {"police": "公安服务", "consult": "综合咨询"}.get(code, code),
        "waiting": waiting,
        "longest_wait_min": longest,
        "wait_alert_minutes": limit,
        "estimated_wait_min": estimate,
    }


def device(device_id: str, online: bool, seen: bool = True, **status: str) -> dict[str, object]:
    return {
        "id": device_id,
        "name": f"设备{device_id}",
        "type_label": "打印机",
        "location": "一楼",
        "online": online,
        "ever_seen": seen,
        "since": NOW.isoformat() if seen else None,
        "status": status,
    }


def test_alert_rules() -> None:
    facts = alerts.Facts(
        groups=[group("police", 4, 31), group("consult", 2, 70, limit=20, estimate=None), group("x", 0, 0)],
        devices=[
            device("p1", True, paper="out"),
            device("p2", True, paper="near_end"),
            device("p3", False),
            device("p4", False, seen=False),
            device("p5", True, paper="ok", cover="open"),
        ],
        reviews=[
            alerts.BadReview(9, "w05", "5号窗口", "不满意", NOW - timedelta(hours=2)),
            alerts.BadReview(8, "w06", "6号窗口", "非常不满意", NOW - timedelta(hours=30)),  # not new any more
        ],
        rectifications=[
            alerts.DueRectification(1, "w05", "5号窗口", "市公安局", "open", date(2026, 11, 20)),
            alerts.DueRectification(2, "w06", "6号窗口", None, "called_back", date(2026, 11, 24)),
            alerts.DueRectification(3, "w07", "7号窗口", None, "open", date(2026, 11, 30)),  # far off
            alerts.DueRectification(4, "w07", "7号窗口", None, "rectified", date(2026, 11, 1)),  # done
        ],
        assists=[
            {"id": 1, "device_id": "kiosk-01", "device_name": "1号自助机", "location": "入口", "elderly": True},
            {
                "id": 2,
                "device_id": "kiosk-02",
                "device_name": "2号自助机",
                "location": "入口",
                "acknowledged_by": "s01",
            },
        ],
    )
    found = {a.key: a for a in alerts.evaluate(facts, NOW)}
    assert found["queue_wait:police"].level == "warning" and "31分钟" in found["queue_wait:police"].detail
    assert found["queue_wait:consult"].level == "critical"  # 70 ≥ 2 × 20
    assert found["no_window:consult"].level == "critical"
    assert "queue_wait:x" not in found
    assert found["paper:p1"].level == "critical" and found["paper:p2"].level == "warning"
    assert found["offline:p3"].level == "critical" and "offline:p4" not in found
    assert found["devices_unseen"].title == "1台设备尚未上线"
    assert found["printer:p5"].title.endswith("纸仓盖未关闭")
    assert "review:9" in found and "review:8" not in found
    assert found["rect:1"].kind == "rectification_overdue" and "超期3天" in found["rect:1"].title
    assert found["rect:2"].kind == "rectification_due" and "1天后到期" in found["rect:2"].title
    assert "rect:3" not in found and "rect:4" not in found
    assert "assist:1" in found and "长者模式" in found["assist:1"].detail and "assist:2" not in found
    levels = [a.level for a in alerts.evaluate(facts, NOW)]
    assert levels == sorted(levels, key=alerts.LEVELS.__getitem__)
    # A day later the 差评 is no longer new (its rectification alert takes over).
    assert "review:9" not in {a.key for a in alerts.evaluate(facts, NOW + timedelta(hours=23))}


def test_printer_paper_state_shows_live(console: Console) -> None:
    bus = console.hall.bus
    printer, _ = bus.device("printer-w05", replies=False)
    open_floor(console)
    for paper, label, alert in (("near_end", "纸将用尽", "打印纸将用尽"), ("out", "缺纸", "5号窗口打印机缺纸")):
        printer.publish(
            bus.topics.device("printer-w05", "status"),
            DeviceStatus(ts=bus.clock.now(), ok=paper != "out", paper=paper, cover="closed"),
            retain=True,
        )
        console.wait_text("#dev-printer-w05", label)
        console.wait_text("#alerts", alert)
    assert "paper-out" in chip(console.driver, "printer-w05")["class"]
    console.screenshot("floor-paper-out")


def test_the_page_reconnects_and_catches_up_after_its_stream_ends(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_api, "MAX_STREAM_S", 1.0)  # the server ends every stream after a second
    open_floor(console)
    console.driver.execute_script("window.__noReload = true")

    def connections(d: object) -> int:
        return int(d.execute_script("return window.__floor.opened || 0"))  # type: ignore[attr-defined]

    console.wait(lambda d: connections(d) >= 3, "the page did not reconnect", timeout=15)
    assert console.hall.http.put("/api/v1/windows/w09/status", json={"status": "closed"}).status_code == 200
    console.wait_text("#win-w09", "已关闭", timeout=15)
    assert console.driver.execute_script("return window.__noReload") is True
