"""The floor's 最近呼叫 and 开放窗口 as a manager reads them: calls made before the page was opened are listed
(newest first, from the snapshot) and a call made while it is open joins them once; each queue shows how many
open windows serve it — a whole number of windows, not the fractional capacity the wait estimate uses."""

from __future__ import annotations

from typing import Any

from tests.console.conftest import Console
from tests.console.test_floor import open_floor


def serve_consultations(http: Any, window: str, count: int) -> list[str]:
    """`count` consultation tickets called, served and finished at one window, in order: their numbers."""
    numbers = []
    for _ in range(count):
        http.post("/api/v1/tickets", json={"group": "consult"}).raise_for_status()
        called = http.post(f"/api/v1/windows/{window}/call-next").json()
        numbers.append(called["ticket"]["number"])
        http.post(f"/api/v1/windows/{window}/start").raise_for_status()
        http.post(f"/api/v1/windows/{window}/finish", json={"outcome": "咨询"}).raise_for_status()
    return numbers


def test_recent_calls_and_open_windows_per_queue(console: Console) -> None:
    http = console.hall.http
    numbers = serve_consultations(http, "w16", 7)
    http.put("/api/v1/windows/w02/status", json={"status": "paused", "reason": "午间轮休"}).raise_for_status()

    open_floor(console)
    calls = console.all("#calls li")
    texts = [c.text for c in calls]
    assert len(texts) == 7, texts
    assert texts[0].endswith(f"请{numbers[-1]}号到16号窗口办理")  # newest first
    assert texts[-1].endswith(f"请{numbers[0]}号到16号窗口办理")

    windows = http.get("/api/v1/windows").json()
    for g in http.get("/api/v1/queue").json():
        expected = sum(1 for w in windows if w["status"] == "open" and g["group"] in w["groups"])
        cell = console.text(f"#groups tr[data-group='{g['group']}'] .open-windows")
        assert cell == str(expected), (g["group"], cell, expected)  # whole windows: never 3.18
    assert console.text("#groups tr[data-group='police'] .open-windows") != ""

    http.post("/api/v1/tickets", json={"group": "consult"}).raise_for_status()
    latest = http.post("/api/v1/windows/w17/call-next").json()["ticket"]["number"]
    console.wait_text("#calls li:first-child", f"请{latest}号到17号窗口办理")  # live, no reload
    assert len(console.all("#calls li")) == 8
    console.screenshot("floor-recent-calls")
