"""A 24-hour self-service point (issue 17 part 6, `firmware_config/halls/point24`): kiosks and printers, no
windows. The hall server runs it with its real broker: the point's profile validates, the server starts, the
kiosk's guide printing, booking slots and progress queries answer, and ticket.issue is refused with a clear
Chinese message (no window could ever call the ticket). Provisioning registers it as a site kind of its own."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from broker.messages import AppointmentSlots, GuidePrint, ProgressQuery, Request, TicketIssue
from broker.mosquitto import free_port
from broker.topics import Topics
from firmware_config.devices import load_devices
from firmware_config.hall import SiteKind, load_hall_profile
from hallcore.clock import ManualClock
from hallserver.app import create_app
from hallserver.services.site import NO_TICKETS
from tests.bus.fixtures import HallBroker
from tests.conftest import fresh_sqlite, hall_settings, login
from tests.gateway.fixtures import Bus

POINT = Path(__file__).resolve().parents[2] / "firmware_config" / "halls" / "point24"
SHANGHAI = ZoneInfo("Asia/Shanghai")
ITEM = "11440300MB2D41730K000172102000000"  # 居住证申领: in the catalog the point shares with its district


def _now() -> datetime:
    return datetime(2026, 11, 29, 3, 0, tzinfo=SHANGHAI)  # a Sunday, 03:00: a hall is shut, the point is not


@pytest.fixture
def point(tmp_path: Path, sqlite_template: Path) -> Iterator[Bus]:
    hall = load_hall_profile(POINT / "hall.yaml")
    devices = load_devices(POINT / "devices.yaml", hall)
    folder = Path(tempfile.mkdtemp(prefix="hallq-point-"))
    folder.chmod(0o711)
    clock = ManualClock(_now())
    with HallBroker(hall, devices, tmp_path / "secret", out_dir=folder, port=free_port()) as broker:
        settings = hall_settings(fresh_sqlite(sqlite_template, tmp_path), tmp_path, broker, hall_dir=POINT)
        with TestClient(create_app(settings, clock)) as http:
            http.headers.update(login(http, "m01"))
            state = Bus(broker, broker.secret_dir, hall, devices, clock, http, topics=Topics("point24"))
            assert state.gateway.client.wait_connected(5)
            yield state
            for client in state.clients:
                client.stop()
    shutil.rmtree(folder, ignore_errors=True)


def _req(model: type[Request], **kw: object) -> Request:
    return model(ts=_now(), request_id=Request.new_id(), **kw)  # type: ignore[call-arg]


def test_the_point_profile_has_no_windows_and_serves_around_the_clock() -> None:
    hall = load_hall_profile(POINT / "hall.yaml")
    assert hall.hall.site_kind == SiteKind.self_service_point and hall.windows == ()
    devices = load_devices(POINT / "devices.yaml", hall)
    assert {d.type for d in devices.devices} == {"kiosk", "printer"}


def test_the_point_serves_its_kiosks_and_refuses_queue_tickets_in_chinese(point: Bus) -> None:
    info = point.http.get("/api/v1/hall").json()
    assert info["site_kind"] == "self_service_point" and info["windows"] == [] and info["is_open"]
    kiosk, _ = point.device("kiosk-01")
    _printer, jobs = point.device("printer-kiosk-01", point.topics.device("printer-kiosk-01", "job"))

    refused = kiosk.request("ticket.issue", _req(TicketIssue, group="police"))
    assert refused.status == "error" and refused.error is not None
    assert refused.error.code == "not_offered" and refused.error.message == NO_TICKETS
    assert "不能取号" in refused.error.message

    guide = kiosk.request("guide.print", _req(GuidePrint, item_code=ITEM))
    assert guide.status == "ok", guide
    assert jobs.wait_for(lambda t, p: p is not None and p.get("kind") == "guide", timeout=5) is not None

    slots = kiosk.request("appointment.slots", _req(AppointmentSlots, item_code=ITEM))
    assert slots.status in ("ok", "error")  # answered either way: a day's slots, or why there are none
    progress = kiosk.request("progress.query", _req(ProgressQuery, serial_no="X" * 24))
    assert progress.status in ("ok", "error") and (progress.status == "ok" or progress.error.code != "unavailable")
    # REST is the same command: a manager's ticket at the point is refused the same way.
    rest = point.http.post("/api/v1/tickets", json={"group": "police"})
    assert rest.status_code == 400 and rest.json()["error"]["code"] == "not_offered"
