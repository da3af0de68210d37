"""Putting one kiosk together from its device setup: bus service, hall facts, catalog cache, session and
flows (and the card reader). Shared by the CLI, the tests and the start-up benchmark. No Kivy here."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from broker.messages import CatalogVersion
from firmware_config.devices import KioskProfile
from kiosk.settings import DeviceSettings
from kiosk.terminal.catalog import CatalogCache
from kiosk.terminal.flows import FaceRunner, KioskFlows, Runner, run_now
from kiosk.terminal.hall import HallFacts, fetch_json, load_facts
from kiosk.terminal.hardware import CardInput, face_factory
from kiosk.terminal.service import KioskService
from kiosk.terminal.session import KioskSession
from kiosk.ui.device import DeviceSetup

log = logging.getLogger("hallq.kiosk")


@dataclass
class Kiosk:
    """The parts of one running kiosk."""

    profile: KioskProfile
    service: KioskService
    session: KioskSession
    flows: KioskFlows
    cache: CatalogCache
    cards: CardInput

    def watch_catalog(self, refreshed: Callable[[], None] = lambda: None) -> None:
        """Fetch the catalog again whenever the bus announces a new version (off the network thread)."""

        def changed(version: CatalogVersion) -> None:
            def fetch() -> None:
                if self.cache.refresh(version.url, version.version):
                    refreshed()

            threading.Thread(target=fetch, name="kiosk-catalog", daemon=True).start()

        self.service.on_catalog = changed


def hall_facts(setup: DeviceSetup, cache_dir: Path) -> HallFacts:
    """From the hall folder on a development machine, else from the server (cached)."""
    if setup.hall is not None:
        return HallFacts.from_profile(setup.hall)
    base = DeviceSettings().base_url
    facts = load_facts(cache_dir / "hall.json", lambda: fetch_json(f"{base}/api/v1/hall"))
    return facts or HallFacts(setup.hall_name)


def build_kiosk(
    setup: DeviceSetup,
    cache_dir: Path,
    clock: Callable[[], datetime] | None = None,
    runner: Runner = run_now,
    post: Callable[[Callable[[], None]], None] = lambda fn: fn(),
    face: Callable[[], FaceRunner] | None = None,
    monotonic: Callable[[], float] | None = None,
) -> Kiosk:
    """A kiosk ready to start (nothing connects yet)."""
    profile = setup.profile
    assert isinstance(profile, KioskProfile)
    zone = ZoneInfo(setup.bus.timezone)
    now = clock or (lambda: datetime.now(zone))
    service = KioskService(profile, setup.bus, now)
    fallback = DeviceSettings().hall_dir / "catalog" if setup.hall is not None else None
    cache = CatalogCache(cache_dir / "catalog.json", fallback)
    cache.load()
    session = KioskSession(profile.idle_timeout_s, monotonic) if monotonic else KioskSession(profile.idle_timeout_s)
    flows = KioskFlows(
        session,
        service,
        profile,
        hall_facts(setup, cache_dir),
        cache,
        now,
        runner=runner,
        post=post,
        face=face if face is not None else face_factory(profile),
        public_url=DeviceSettings().public_url,
    )
    return Kiosk(profile, service, session, flows, cache, CardInput(profile, lambda _e: None))
