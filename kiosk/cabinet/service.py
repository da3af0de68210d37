"""The pickup cabinet's connection to the hall (no screen): an ID card read on its own reader asks the server
which doors hold that person's 证照 (`pickup.open`), the board unlocks them, and when such a door is shut again
the cabinet says whether the compartment is empty (`pickup.taken`). Its doors' state goes out on its
retained status topic. What it would say to the citizen (its small screen or voice) is in `said`."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from broker.client import BusClient, BusSettings, BusTimeout
from broker.messages import DeviceAvailability, DeviceStatus, PickupDone, PickupOpen, Reply
from broker.topics import Topics
from firmware_config.devices import PickupCabinetProfile
from hallcore.pickup import CardIdentity
from kiosk.cabinet.board import BoardError, CabinetBoard
from kiosk.idcard.card import IdCard
from kiosk.idcard.watcher import CardEvent, CardPresented, CardRemoved, ReaderFault

log = logging.getLogger("hallq.cabinet")
BUSY = "系统繁忙，请稍后再刷身份证，或到服务台领取"
SCAN_EVERY = 10  # polls between two scans of every door (a door a citizen opened is watched at every poll)


class CabinetService:
    """One cabinet: bus client, board, and the doors it opened and is waiting to see shut."""

    def __init__(
        self,
        profile: PickupCabinetProfile,
        bus: BusSettings,
        board: CabinetBoard,
        clock: Callable[[], datetime] | None = None,
        poll_s: float = 0.5,
        request_timeout_s: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.profile = profile
        self.board = board
        self.zone = ZoneInfo(bus.timezone)
        self.clock = clock or (lambda: datetime.now(self.zone))
        self.topics = Topics(bus.hall)
        self.poll_s = poll_s
        self.request_timeout_s = request_timeout_s
        self.monotonic = monotonic
        self.bus = BusClient(bus, self.topics.device(profile.id, "availability"), self._availability)
        self.said: deque[str] = deque(maxlen=50)  # what its screen/voice told the citizen, newest last
        self.waiting: dict[int, float] = {}  # doors opened for a citizen → when (monotonic)
        self.problem: str | None = None
        self.card_on_reader = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_status: tuple[Any, ...] | None = None
        self._polls = 0

    def _availability(self, state: str) -> DeviceAvailability:
        return DeviceAvailability.of(self.clock(), state, "cabinet")

    def start(self, wait_s: float = 10.0) -> None:
        """Connect, then watch the doors it opens."""
        self.bus.enable_replies(self.profile.id)
        self.bus.when_connected(lambda: self.publish_status(force=True))
        self.bus.start(wait_s)
        self._thread = threading.Thread(target=self._run, name="cabinet-doors", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching, say offline, release the board."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.bus.stop()
        self.board.close()

    def say(self, text: str) -> None:
        """Tell the citizen (no personal data in what it says)."""
        self.said.append(text)
        log.info("cabinet: %s", text)

    # --- a card on the reader ---

    def on_card_event(self, event: CardEvent) -> None:
        """From the card watcher: a card read opens that person's doors."""
        if isinstance(event, CardPresented):
            self.card_on_reader = True
            self.open_for(event.card)
        elif isinstance(event, CardRemoved):
            self.card_on_reader = False
        elif isinstance(event, ReaderFault):
            self.say(event.message)

    def open_for(self, card: IdCard) -> list[int]:
        """Ask the server for this card holder's doors and unlock them; the doors that sprang open."""
        identity = CardIdentity(id_number=card.id_number, name=card.name, method="id_card")
        request = PickupOpen(ts=self.clock(), request_id=PickupOpen.new_id(), identity=identity)
        try:
            reply = self.bus.request("pickup.open", request, timeout_s=self.request_timeout_s, attempts=2)
        except BusTimeout:
            self.say(BUSY)
            return []
        if reply.status != "ok" or reply.data is None:
            self.say(reply.error.message if reply.error else BUSY)
            return []
        opened: list[int] = []
        for door in reply.data.get("doors", []):
            try:
                sprang = self.board.unlock(int(door))
            except (BoardError, ValueError) as exc:
                log.error("cabinet: door %s: %s", door, exc)
                sprang = False
            if sprang:
                opened.append(int(door))
                with self._lock:
                    self.waiting[int(door)] = self.monotonic()
        failed = [d for d in reply.data.get("doors", []) if d not in opened]
        if opened:
            self.say(f"请到第{'、'.join(map(str, opened))}号柜门取出您的证照，取后请关好柜门")
        if failed:
            self.problem = f"第{'、'.join(map(str, failed))}号柜门未能打开"
            self.say(f"{self.problem}，请到服务台领取")
        self.publish_status(force=True)
        return opened

    # --- doors shut again ---

    def poll_once(self) -> None:
        """Check the doors it opened; a shut one is reported (empty or not), one left open too long alerts."""
        with self._lock:
            doors = dict(self.waiting)
        alerts = []
        for door, since in sorted(doors.items()):
            try:
                state = self.board.state(door)
            except BoardError as exc:
                self.problem = str(exc)
                continue
            if state.open:
                if self.monotonic() - since > self.profile.open_alert_s:
                    alerts.append(door)
                continue
            if self._report_taken(door, empty=not state.occupied):
                with self._lock:
                    self.waiting.pop(door, None)
        self.problem = f"第{'、'.join(map(str, alerts))}号柜门长时间未关闭" if alerts else None
        self._polls += 1
        if doors or self._polls % SCAN_EVERY == 0:  # the whole board now and then (staff load doors too)
            self.publish_status()

    def _report_taken(self, door: int, empty: bool) -> bool:
        request = PickupDone(ts=self.clock(), request_id=PickupDone.new_id(), door=door, empty=empty)
        try:
            reply: Reply = self.bus.request("pickup.taken", request, timeout_s=self.request_timeout_s, attempts=2)
        except BusTimeout:
            return False  # asked again at the next poll (a new request: the server's answer is the same)
        if reply.status == "ok" and reply.data is not None:
            self.say("证照已领取，谢谢" if reply.data.get("collected") else f"第{door}号柜门已关闭，证照仍在柜内")
        else:
            log.warning("cabinet: pickup.taken for door %d refused: %s", door, reply.error)
        return True

    def publish_status(self, force: bool = False) -> None:
        """The doors standing open and those holding something (retained), when it changed."""
        opened, occupied = [], []
        try:
            for door in range(1, self.profile.doors + 1):
                state = self.board.state(door)
                if state.open:
                    opened.append(door)
                if state.occupied:
                    occupied.append(door)
        except BoardError as exc:
            self.problem = str(exc)
        key = (tuple(opened), tuple(occupied), self.problem)
        if not force and key == self._last_status:
            return
        self._last_status = key
        status = DeviceStatus(
            ts=self.clock(), ok=self.problem is None, error=self.problem, doors_open=opened, occupied=occupied
        )
        self.bus.publish(self.topics.device(self.profile.id, "status"), status, retain=True)

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self.poll_once()
            except Exception:  # one bad poll must not stop the cabinet
                log.exception("cabinet: polling the doors failed")
