"""Case-life fixtures: one demo hall app per module (SQLite, no bus) on a manual clock, a registered
department system (市公安局) with its webhook secret and token, and helpers that accept a real case at a
window and sign a department's update exactly as the README's contract says."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hallcore.clock import ManualClock
from hallserver.app import create_app
from hallserver.services import departments
from tests.conftest import fresh_sqlite, hall_settings, local, login
from tests.console.conftest import console, driver, live_hall  # noqa: F401 (the browser fixtures, reused)
from tests.integration.helpers import id_number

API = "/api/v1"
ITEM = "11440300MB2D41730K000172102000000"  # 居住证申领: 市公安局人口管理支队, 容缺, 告知承诺制, 中止办理 on lapse
OTHER_DEPT_ITEM_GROUP = "social"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()["error"]
    assert body["code"] == code, body
    return body


@dataclass
class CaseHall:
    """The running app with a department system registered in its secret store."""

    http: TestClient
    clock: ManualClock
    secret_dir: Path
    secret: str  # 市公安局's webhook secret
    token: str  # 市公安局's bearer token
    staff: dict[str, str]  # s05: A of w05, 首席代表 of 市公安局
    seed: int = 100

    @property
    def ctx(self) -> Any:
        return self.http.app.state.hall.ctx  # type: ignore[attr-defined]

    def accept(self, outcome: str = "受理", **finish: Any) -> dict[str, Any]:
        """A real-name ticket for 居住证申领, served at w05 and finished with this outcome; the visit."""
        self.seed += 1
        ident = {"method": "id_card", "id_number": id_number(self.seed), "name": "张小三"}
        ok(self.http.post(f"{API}/tickets", json={"item_code": ITEM, "identity": ident}, headers=self.staff), 201)
        ok(self.http.post(f"{API}/windows/w05/call-next", headers=self.staff))
        ok(self.http.post(f"{API}/windows/w05/start", headers=self.staff))
        ok(self.http.post(f"{API}/windows/w05/finish", headers=self.staff, json={"outcome": outcome, **finish}))
        (visit,) = [v for v in ok(self.http.get(f"{API}/visits", headers=self.staff, params={"window_id": "w05"}))][-1:]
        visit["id_number"] = id_number(self.seed)
        return visit

    def push(
        self,
        body: dict[str, Any] | bytes,
        secret: str | None = None,
        timestamp: int | None = None,
        department: str = "gongan",
    ) -> Any:
        """POST a signed update to the webhook: sha256=HMAC(secret, "<timestamp>.<raw body>")."""
        raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode("utf-8")
        ts = str(timestamp if timestamp is not None else int(self.clock.now().timestamp()))
        headers = {
            "Content-Type": "application/json",
            "X-Hallq-Department": department,
            "X-Hallq-Timestamp": ts,
            "X-Hallq-Signature": departments.sign(secret or self.secret, ts, raw),
        }
        return self.http.post(f"{API}/departments/webhook", content=raw, headers=headers)


def event(serial_no: str, status: str, n: int, **fields: Any) -> dict[str, Any]:
    """A department event body with a fresh event id."""
    return {"event_id": f"gongan-{n}-{time.monotonic_ns()}", "serial_no": serial_no, "status": status, **fields}


@pytest.fixture(scope="module")
def case_hall(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CaseHall]:
    """The demo hall on Monday 2026-11-23 10:00, 市公安局 registered as department system `gongan`."""
    tmp = tmp_path_factory.mktemp("cases")
    clock = ManualClock(local(2026, 11, 23, 10, 0))
    settings = hall_settings(fresh_sqlite(sqlite_template, tmp), tmp)
    secret = departments.register(settings.secret_dir, "gongan", "市公安局")
    token = departments.issue_token(settings.secret_dir, "gongan")
    departments.register(settings.secret_dir, "shebao", "市社会保险基金管理局")
    with TestClient(create_app(settings, clock)) as http:
        yield CaseHall(http, clock, settings.secret_dir, secret, token, login(http, "s05"))
