"""证照自助领取 end to end on a real broker, server and database: staff put a finished case's 证照 in a door,
the cabinet (board and ID reader simulated on ptys, as `hallq cabinet` runs them) opens that door only for
the ID card of the case's applicant, and records the pickup when the door is shut on an empty compartment."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from broker.client import BusTimeout
from broker.messages import PickupDone, PickupOpen
from firmware_config.devices import PickupCabinetProfile
from hallcore.pickup import CardIdentity
from kiosk.cabinet.control import SOCKET_DIR_ENV as BOARD_SOCKETS
from kiosk.cabinet.hardware import CabinetHardware, open_hardware
from kiosk.cabinet.service import CabinetService
from kiosk.idcard.control import SOCKET_DIR_ENV as READER_SOCKETS
from tests.conftest import login
from tests.gateway.fixtures import Bus

API = "/api/v1"
ITEM = "11440300MB2D41730K000172102000000"  # 居住证申领 (市公安局), served at w05 by s05
CABINET = "pickup-cabinet-01"


def until(predicate: Callable[[], Any], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout}s"
        time.sleep(0.05)


@pytest.fixture
def cabinet(
    bus: Bus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[CabinetService, CabinetHardware]]:
    short = Path(f"/tmp/hq-cab-{os.getpid()}")  # Unix socket paths are short
    for env, name in ((READER_SOCKETS, "idcard"), (BOARD_SOCKETS, "cabinet")):
        (short / name).mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(env, str(short / name))
    profile = bus.devices.get(CABINET)
    assert isinstance(profile, PickupCabinetProfile)
    holder: list[CabinetService] = []
    hw = open_hardware(profile, lambda event: holder[0].on_card_event(event) if holder else None)
    service = CabinetService(profile, bus.broker.bus_settings(CABINET), hw.board, bus.clock.now, poll_s=3600)
    holder.append(service)
    service.start(wait_s=5)
    assert service.bus.wait_connected(5)
    yield service, hw
    service.stop()
    hw.close()
    shutil.rmtree(short, ignore_errors=True)


def finished_case(bus: Bus, staff: dict[str, str], id_number: str, name: str) -> str:
    """A real-name ticket served at w05 and finished 当场办结: the new case's serial number."""
    ident = {"method": "id_card", "id_number": id_number, "name": name}
    assert (
        bus.http.post(f"{API}/tickets", json={"item_code": ITEM, "identity": ident}, headers=staff).status_code == 201
    )
    for step, body in (("call-next", None), ("start", None), ("finish", {"outcome": "当场办结"})):
        response = bus.http.post(f"{API}/windows/w05/{step}", json=body, headers=staff)
        assert response.status_code == 200, response.text
    visits = bus.http.get(f"{API}/visits", params={"window_id": "w05"}, headers=staff).json()
    return str(visits[-1]["serial_no"])


def case_status(bus: Bus, serial_no: str) -> tuple[str, str]:
    body = bus.http.get(f"{API}/progress", params={"serial_no": serial_no}).json()
    case = body["cases"][0] if isinstance(body, dict) and "cases" in body else body[0]
    return case["status"], case["delivery"]


def test_a_card_opens_only_its_holders_door_and_the_pickup_is_recorded(
    bus: Bus, cabinet: tuple[CabinetService, CabinetHardware]
) -> None:
    service, hw = cabinet
    board, card = hw.board_sim, hw.card_sim
    assert board is not None and card is not None
    resident, elderly = card.identities["resident"], card.identities["elderly"]
    staff = login(bus.http, "s05")
    serial = finished_case(bus, staff, resident.id_number, resident.name)

    # Staff put the 证照 in door 3: the case waits for self pickup.
    deposit = {"serial_no": serial, "cabinet": CABINET, "door": 3}
    put = bus.http.post(f"{API}/pickup/deposits", json=deposit, headers=staff)
    assert put.status_code == 200, put.text
    assert put.json()["door"] == 3 and case_status(bus, serial) == ("待领取", "自助领取")
    board.put(3)
    doors = bus.http.get(f"{API}/pickup/cabinets/{CABINET}", headers=staff).json()
    assert doors["occupied"] == [{"door": 3, "serial_no": serial, "item_name": doors["occupied"][0]["item_name"]}]
    assert resident.id_number not in str(doors) and resident.name not in str(doors)

    # Someone else's card opens nothing.
    card.insert("elderly")
    until(lambda: any("没有您待领取的证照" in s for s in service.said), "the refusal")
    assert board.state(3) == (False, True) and not service.waiting
    card.remove()
    until(lambda: not service.card_on_reader, "the card taken away")

    # The applicant's card opens door 3, and only door 3.
    card.insert("resident")
    until(lambda: 3 in service.waiting, "door 3 opening")
    assert board.state(3) == (True, True)
    assert [d for d in board.doors if board.state(d)[0]] == [3]
    assert any("第3号柜门" in s for s in service.said)
    assert elderly.name not in " ".join(service.said) and resident.name not in " ".join(service.said)

    # Shut without taking it: still waiting for its owner.
    board.shut(3)
    service.poll_once()
    assert case_status(bus, serial)[0] == "待领取" and 3 not in service.waiting

    # Opened again, emptied and shut: collected.
    card.remove()
    until(lambda: not service.card_on_reader, "the card taken away")
    card.insert("resident")
    until(lambda: 3 in service.waiting, "door 3 opening again")
    board.take(3)
    board.shut(3)
    service.poll_once()
    assert case_status(bus, serial)[0] == "已领取"
    assert service.said[-1] == "证照已领取，谢谢"
    assert bus.http.get(f"{API}/pickup/cabinets/{CABINET}", headers=staff).json()["occupied"] == []


def test_what_the_server_refuses(bus: Bus) -> None:
    staff = login(bus.http, "s05")
    serial = finished_case(bus, staff, "11010519491231002X", "张三")
    bad = [
        ({"serial_no": serial, "cabinet": "pickup-cabinet-09", "door": 1}, 404, "not_found"),
        ({"serial_no": serial, "cabinet": CABINET, "door": 30}, 400, "invalid"),
        ({"serial_no": serial, "cabinet": CABINET, "door": 0}, 422, "invalid"),
        ({"serial_no": "NOSUCHCASE1", "cabinet": CABINET, "door": 1}, 404, "not_found"),
    ]
    for body, status, code in bad:
        response = bus.http.post(f"{API}/pickup/deposits", json=body, headers=staff)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), body
        assert "message" in response.json()["error"]
    door5 = {"serial_no": serial, "cabinet": CABINET, "door": 5}
    nobody = bus.http.post(f"{API}/pickup/deposits", json=door5, headers={"Authorization": "Bearer forged"})
    assert nobody.status_code == 401
    assert bus.http.post(f"{API}/pickup/deposits", json=door5, headers=staff).status_code == 200
    other = finished_case(bus, staff, "11010519491231002X", "张三")
    taken = bus.http.post(
        f"{API}/pickup/deposits", json={"serial_no": other, "cabinet": CABINET, "door": 5}, headers=staff
    )
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "door_occupied"

    cabinet, _ = bus.device(CABINET)
    # A door nobody opened with a card cannot be reported as collected.
    never_opened = cabinet.request(
        "pickup.taken", PickupDone(ts=bus.clock.now(), request_id=PickupDone.new_id(), door=5, empty=True)
    )
    assert never_opened.status == "error" and never_opened.error is not None and never_opened.error.code == "forbidden"
    assert case_status(bus, serial)[0] == "待领取"
    # Only a card read on the cabinet opens a door: a face match (or anything else) is refused.
    face = PickupOpen.model_construct(
        ts=bus.clock.now(), request_id=PickupOpen.new_id(), device_id=None,
        identity=CardIdentity.model_construct(id_number="11010519491231002X", name="张三", method="face"),  # type: ignore[arg-type]
    )  # fmt: skip
    refused = cabinet.request("pickup.open", face)
    assert refused.status == "error" and refused.error is not None and refused.error.code == "invalid"
    # A kiosk may not ask at all: the broker drops it, the server never sees it.
    kiosk, _ = bus.device("kiosk-24h-01")
    card = CardIdentity(id_number="11010519491231002X", name="张三", method="id_card")
    with pytest.raises(BusTimeout):
        kiosk.request(
            "pickup.open",
            PickupOpen(ts=bus.clock.now(), request_id=PickupOpen.new_id(), identity=card),
            timeout_s=1,
            attempts=1,
        )
    # The cabinet is the topic's device: the right card opens door 5 of this cabinet only.
    opened = cabinet.request(
        "pickup.open", PickupOpen(ts=bus.clock.now(), request_id=PickupOpen.new_id(), identity=card)
    )
    assert opened.status == "ok" and opened.data is not None and opened.data["doors"] == [5]
    assert opened.data["masked_name"] == "张*" and "11010519491231002X" not in str(opened.data)
