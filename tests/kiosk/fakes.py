"""Fakes for the kiosk's flow tests: a scripted bus, a card, a face check, a clock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from broker.messages import GroupQueue
from firmware_config.devices import KioskProfile, SimulatorConnection
from firmware_config.hall import load_hall_profile
from kiosk.terminal.catalog import CatalogCache
from kiosk.terminal.flows import KioskFlows
from kiosk.terminal.hall import HallFacts
from kiosk.terminal.service import KioskError
from kiosk.terminal.session import KioskSession
from tests.conftest import DEMO_HALL, local

PERSON_NAME = "李测试"
PERSON_ID = "110105198506141230"


@dataclass(frozen=True)
class Card:
    """Looks like kiosk.idcard.IdCard to the flows."""

    name: str = PERSON_NAME
    id_number: str = PERSON_ID
    photo: bytes | None = b"\xff\xd8\xff fake jpeg"
    masked_name: str = "李*试"
    masked_id_number: str = "1101**********1230"
    english_name: str = ""
    birth: date = date(1985, 6, 14)


@dataclass
class FakeBus:
    """Answers requests from a table; records what was sent."""

    online: bool = True
    offline_reason: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    queue: list[GroupQueue] = field(default_factory=list)

    def request(self, action: str, **params: Any) -> dict[str, Any]:
        self.sent.append((action, params))
        if not self.online:
            raise KioskError("unavailable", f"{self.offline_reason}，请稍后再试")
        answer = self.answers.get(action, {})
        if isinstance(answer, Exception):
            raise answer
        return dict(answer)

    def base_url(self) -> str | None:
        return "http://hall.test:8000"


class FakeFace:
    """A face check that reports two steps and then accepts (or not)."""

    def __init__(self, accepted: bool) -> None:
        self.accepted = accepted
        self.photos: list[bytes] = []

    def run(self, id_photo: bytes, on_progress: Callable[[str, str], None], cancel: threading.Event) -> Any:
        self.photos.append(id_photo)
        on_progress("detect", "请正对摄像头")
        on_progress("liveness", "请眨眨眼")
        return type("Outcome", (), {"accepted": self.accepted, "reason": None if self.accepted else "不是同一人"})()


class Ticker:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def profile(**changes: Any) -> KioskProfile:
    """kiosk-01 of the demo hall, changed."""
    base = KioskProfile(
        id="kiosk-01",
        type="kiosk",
        name="一楼大厅1号自助机",
        printer="printer-kiosk-01",
        id_reader=SimulatorConnection(type="simulator"),
        face_checkin=True,
    )
    return base.model_copy(update=changes)


def make_flows(
    tmp_path: Path,
    bus: FakeBus | None = None,
    now: datetime | None = None,
    face: FakeFace | None = None,
    **profile_changes: Any,
) -> tuple[KioskFlows, FakeBus, Ticker]:
    """Flows over the demo hall's catalog and calendar, a fake bus, a fake clock."""
    bus = bus or FakeBus()
    ticker = Ticker()
    p = profile(**profile_changes)
    session = KioskSession(p.idle_timeout_s, ticker)
    cache = CatalogCache(tmp_path / "catalog.json", DEMO_HALL / "catalog")
    cache.load()
    facts = HallFacts.from_profile(load_hall_profile(DEMO_HALL / "hall.yaml"))
    moment = now or local(2026, 11, 23, 10, 0)
    flows = KioskFlows(
        session,
        bus,
        p,
        facts,
        cache,
        lambda: moment,
        face=(lambda: face) if face else None,
    )
    return flows, bus, ticker
