"""The what-if and overflow-rule routes over HTTP on a copy of the demo hall: managers only, bad input
refused in Chinese, the prediction built from the database (history curve, people waiting now), and an
overflow rule written to hall.yaml, audited and obeyed by the very next call."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from firmware_config.hall import OverflowRule, load_hall_profile
from hallcore.clock import ManualClock
from hallserver.app import create_app
from hallserver.models import AuditEntry
from hallserver.services import overflow_rules
from tests.conftest import DEMO_HALL, fresh_sqlite, hall_settings, local, login

API = "/api/v1"


@pytest.fixture
def hall_dir(tmp_path: Path) -> Path:
    """A copy of the demo hall: overflow rules are written back to its hall.yaml."""
    target = tmp_path / "hall"
    shutil.copytree(DEMO_HALL, target)
    return target


@pytest.fixture
def client(sqlite_template: Path, clock: ManualClock, tmp_path: Path, hall_dir: Path) -> Iterator[TestClient]:
    """The app on the hall copy, logged in as manager m01."""
    settings = hall_settings(fresh_sqlite(sqlite_template, tmp_path), tmp_path, hall_dir=hall_dir)
    with TestClient(create_app(settings, clock)) as c:
        c.headers.update(login(c, "m01"))
        yield c


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def error(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["code"] == code, body
    return str(body["message"])


def audit(client: TestClient) -> list[AuditEntry]:
    with Session(client.app.state.hall.engine) as s:  # type: ignore[attr-defined]
        return list(s.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all())


def test_only_managers_and_admins(client: TestClient, hall_dir: Path) -> None:
    before = (hall_dir / "hall.yaml").read_bytes()
    rule = {"group": "consult", "windows": ["w01"], "after_minutes": 10}
    anonymous = {"Authorization": ""}
    assert client.post(f"{API}/whatif", json={}, headers=anonymous).status_code == 401
    for user in ("s01", "s05"):  # window staff, a department's chief (首席代表)
        headers = login(client, user)
        for method, path, body in (
            ("GET", "whatif", None),
            ("POST", "whatif", {}),
            ("GET", "overflow-rules", None),
            ("POST", "overflow-rules", rule),
            ("DELETE", "overflow-rules/0", None),
        ):
            response = client.request(method, f"{API}/{path}", json=body, headers=headers)
            assert error(response, 403, "forbidden") == "您的账号无权进行此操作", (user, path)
    assert (hall_dir / "hall.yaml").read_bytes() == before and audit(client) == []
    admin = login(client, "a01")
    assert ok(client.get(f"{API}/overflow-rules", headers=admin)) == []
    assert ok(client.post(f"{API}/whatif", json={}, headers=admin))["baseline"]["tickets"] >= 0


def test_bad_input_gets_a_clear_answer(client: TestClient, hall_dir: Path) -> None:
    before = (hall_dir / "hall.yaml").read_bytes()
    msg = error(
        client.post(f"{API}/whatif", json={"moves": [{"window_id": "w99", "groups": ["police"]}]}), 400, "invalid"
    )
    assert msg == "窗口 w99 不在当前开放的窗口中"
    msg = error(client.post(f"{API}/whatif", json={"extra_windows": [{"groups": ["飞机"]}]}), 400, "invalid")
    assert msg == "没有名为“飞机”的队列"
    assert client.post(f"{API}/whatif", json={"moves": [{"window_id": "w01", "groups": []}]}).status_code == 422
    assert (
        client.post(f"{API}/whatif", json={"extra_windows": [{"groups": ["police"], "count": 99}]}).status_code == 422
    )
    assert client.post(f"{API}/whatif", json={"hack": 1}).status_code == 422
    assert (
        client.post(f"{API}/whatif", json={"moves": [{"window_id": "../x", "groups": ["police"]}]}).status_code == 422
    )

    msg = error(client.post(f"{API}/overflow-rules", json={"group": "nope", "windows": ["w01"]}), 400, "invalid")
    assert "分流规则引用了不存在的队列 nope" in msg
    msg = error(client.post(f"{API}/overflow-rules", json={"group": "consult", "windows": ["w98"]}), 400, "invalid")
    assert "不存在的窗口 ['w98']" in msg
    bad = {"group": "consult", "windows": ["w01"], "after_minutes": -5}
    assert client.post(f"{API}/overflow-rules", json=bad).status_code == 422
    assert client.post(f"{API}/overflow-rules", json={"group": "consult", "windows": []}).status_code == 422
    assert error(client.delete(f"{API}/overflow-rules/3"), 404, "not_found") == "没有第 4 条分流规则"
    assert client.delete(f"{API}/overflow-rules/-1").status_code == 422  # an index is 0..999
    assert client.delete(f"{API}/overflow-rules/99999999999999999999999").status_code == 422
    assert (hall_dir / "hall.yaml").read_bytes() == before and audit(client) == []


def test_closed_hall_says_so(client: TestClient, clock: ManualClock) -> None:
    clock.set(local(2026, 11, 23, 18, 30))
    assert error(client.post(f"{API}/whatif", json={}), 409, "closed") == "今日办公时间已结束，无法推演剩余时段"
    clock.set(local(2026, 11, 22, 10, 0))  # a Sunday
    assert error(client.post(f"{API}/whatif", json={}), 409, "closed") == "今天不是办公日，无法推演"
    # The page still gets what it needs to edit overflow rules after hours.
    start = ok(client.get(f"{API}/whatif"))
    assert start["closed"] == "今天不是办公日，无法推演" and "source" not in start
    assert len(start["windows"]) == len(start["hall_windows"]) == 20 and len(start["groups"]) == 9


def test_prediction_from_last_weeks_curve_and_the_people_waiting_now(client: TestClient, clock: ManualClock) -> None:
    # A week ago, the same Monday: 12 consultations, 4 each hour 09–11, the first four served in 6 minutes.
    clock.set(local(2026, 11, 16, 9, 0))
    for hour in (9, 10, 11):
        for quarter in range(4):
            clock.set(local(2026, 11, 16, hour, quarter * 15))
            ok(client.post(f"{API}/tickets", json={"group": "consult"}), 201)
    for _ in range(4):
        ok(client.post(f"{API}/windows/w16/call-next"))
        ok(client.post(f"{API}/windows/w16/start"))
        clock.advance(minutes=6)
        ok(client.post(f"{API}/windows/w16/finish", json={"outcome": "咨询"}))
    # Today 10:30: three people waiting, none called yet.
    clock.set(local(2026, 11, 23, 10, 0))
    for _ in range(3):
        ok(client.post(f"{API}/tickets", json={"group": "consult"}), 201)
    clock.set(local(2026, 11, 23, 10, 30))

    start = ok(client.get(f"{API}/whatif"))
    assert start["now"] == "10:30" and start["close"] == "18:00" and start["waiting_now"] == 3
    assert len(start["windows"]) == 20 and start["source"]["kind"] == "history"
    assert start["source"]["history_days"] == 1 and start["source"]["arrived_today"] == 3
    # Still to come by last week's curve: half of hour 10 (2 of 4 … pro rata) and all of hour 11.
    assert start["expected_arrivals"] == 6
    assert "近8周同一工作日（1天）" in start["source"]["label"]

    proposal = {"moves": [{"window_id": "w16", "groups": ["police"]}]}  # the only consultation window leaves it
    result = ok(client.post(f"{API}/whatif", json=proposal))
    base, prop = result["baseline"], result["proposal"]
    assert result["basis"]["waiting_now"] == 3 and result["basis"]["now"] == "10:30"
    assert result["changes"] == ["16号窗口改办：公安服务"]
    consult = next(g for g in base["groups"] if g["code"] == "consult")
    assert consult["tickets"] == base["tickets"] >= 3 and consult["served"] == consult["tickets"]
    assert consult["mean_wait"] is not None and consult["mean_wait"] < 15
    # Without w16 consultations are left to w17 (帮办代办 + 咨询): nobody is turned away here, but they wait longer
    # or give up — and w16 itself calls nobody.
    w16 = next(w for w in prop["windows"] if w["id"] == "w16")
    assert w16["groups"] == ["police"] and w16["calls"] == 0
    w17 = next(w for w in prop["windows"] if w["id"] == "w17")
    assert w17["calls"] > next(w for w in base["windows"] if w["id"] == "w17")["calls"]
    assert ok(client.post(f"{API}/whatif", json=proposal)) == result  # the same seed: the same answer


def test_overflow_rule_is_written_audited_and_obeyed(client: TestClient, clock: ManualClock, hall_dir: Path) -> None:
    path = hall_dir / "hall.yaml"
    original = path.read_text(encoding="utf-8")
    comments = [line for line in original.splitlines() if line.lstrip().startswith("#")]
    assert comments  # the demo hall.yaml documents itself
    ok(client.post(f"{API}/tickets", json={"group": "consult"}), 201)
    clock.advance(minutes=11)
    assert ok(client.post(f"{API}/windows/w01/call-next"))["ticket"] is None  # w01 does not serve consultations

    rules = ok(
        client.post(f"{API}/overflow-rules", json={"group": "consult", "windows": ["w01", "w02"], "after_minutes": 10}),
        201,
    )
    assert rules == [
        {
            "index": 0,
            "group": "consult",
            "windows": ["w01", "w02"],
            "after_minutes": 10,
            "text": "综合咨询等候满10分钟可由w01、w02叫号",
        }
    ]
    on_disk = load_hall_profile(path)  # still a valid hall profile, with the rule
    assert [r.model_dump() for r in on_disk.allocation.overflow] == [
        {"group": "consult", "windows": ("w01", "w02"), "after_minutes": 10}
    ]
    assert not list(hall_dir.glob(".hall.*"))  # no temp file left behind
    written = path.read_text(encoding="utf-8").splitlines()
    assert all(c in written for c in comments)  # the hand-written comments survive the edit
    (entry,) = audit(client)
    assert (entry.actor, entry.action, entry.person_id) == ("m01", "overflow_rule_add", None)
    assert entry.purpose == "新增分流规则：综合咨询等候满10分钟可由w01、w02叫号"

    called = ok(client.post(f"{API}/windows/w01/call-next"))["ticket"]  # the next call obeys the rule
    assert called is not None and called["group"] == "consult"

    dup = client.post(f"{API}/overflow-rules", json={"group": "consult", "windows": ["w02", "w01"]})
    assert error(dup, 409, "duplicate") == "已有相同队列和窗口的分流规则，请先删除原规则"
    assert ok(client.delete(f"{API}/overflow-rules/0")) == []
    assert load_hall_profile(path).allocation.overflow == ()
    assert "overflow" not in yaml.safe_load(path.read_text(encoding="utf-8"))["allocation"]
    assert path.read_text(encoding="utf-8") == original  # adding then removing a rule gives the file back
    assert [e.action for e in audit(client)] == ["overflow_rule_add", "overflow_rule_remove"]
    assert audit(client)[1].purpose == "删除分流规则：综合咨询等候满10分钟可由w01、w02叫号"


def test_a_hall_yaml_edited_since_start_is_not_overwritten(client: TestClient, hall_dir: Path) -> None:
    path = hall_dir / "hall.yaml"
    edited = path.read_text(encoding="utf-8").replace("name: 南山区政务服务中心", "name: 南山区政务服务大厅")
    path.write_text(edited, encoding="utf-8")
    response = client.post(f"{API}/overflow-rules", json={"group": "consult", "windows": ["w01"]})
    assert "请先重启服务器" in error(response, 409, "profile_changed")
    assert path.read_text(encoding="utf-8") == edited and audit(client) == []
    path.write_text("hall: [broken", encoding="utf-8")
    response = client.post(f"{API}/overflow-rules", json={"group": "consult", "windows": ["w01"]})
    assert "大厅配置文件无法读取" in error(response, 409, "profile_unreadable")
    assert client.app.state.hall.ctx.profile.allocation.overflow == ()  # type: ignore[attr-defined]


def test_a_failed_commit_leaves_file_profile_and_audit_as_they_were(client: TestClient, hall_dir: Path) -> None:
    hall = client.app.state.hall  # type: ignore[attr-defined]
    path = hall_dir / "hall.yaml"
    before = path.read_bytes()

    @contextmanager
    def commit_fails() -> Iterator[Session]:
        with hall.tx() as session:
            yield session
            assert path.read_bytes() != before  # written inside the transaction …
            raise OSError("disk full")  # … which then fails: rolled back

    with pytest.raises(OSError, match="disk full"):
        overflow_rules.add(commit_fails, hall.ctx, path, OverflowRule(group="consult", windows=("w01",)), "m01")
    assert path.read_bytes() == before and audit(client) == []
    assert hall.ctx.profile.allocation.overflow == ()
