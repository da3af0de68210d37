"""Wiring of the city link into a running hall server. Only a hall with a `city:` section records for the city:
capture (records are kept until the city acknowledges them), the periodic records and — with a broker — the
publisher. A standalone hall writes no outbox, so nothing grows that no one will ever acknowledge."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from firmware_config.credentials import server_account
from firmware_config.hall import city_identity_key
from hallserver.bus_view import BusView
from hallserver.services.context import HallContext
from hallserver.settings import Settings
from hallserver.sync import capture
from hallserver.sync.link import BrokerLogin, Publisher
from hallserver.sync.periodic import PeriodicRecords

log = logging.getLogger("hallq.sync")


@dataclass
class CityLinkRuntime:
    """What runs for the city link in one server."""

    capture: capture.Capture | None = None
    publisher: Publisher | None = None
    periodic: PeriodicRecords | None = None

    def stop(self) -> None:
        """Stop publishing and the periodic records (capture stays: it is part of every commit)."""
        if self.periodic is not None:
            self.periodic.stop()
        if self.publisher is not None:
            self.publisher.stop()


def start(ctx: HallContext, engine: Engine, settings: Settings, bus: Callable[[], BusView | None]) -> CityLinkRuntime:
    """With a city link: install capture, start the periodic records and the publisher. Without: nothing."""
    link = ctx.profile.city
    if link is None:
        return CityLinkRuntime()
    key = city_identity_key(settings.secret_dir)
    if key is None:
        log.warning("city link: no city identity key in %s/city: records carry no person hashes", settings.secret_dir)
    captured = capture.install(engine, ctx, key)
    runtime = CityLinkRuntime(captured)
    runtime.periodic = PeriodicRecords(ctx, engine, bus)
    runtime.periodic.start()
    if settings.broker_host is not None:
        account = server_account(settings.secret_dir)
        login = BrokerLogin(
            settings.broker_host, settings.broker_port, account.username, account.password, settings.broker_ca_file
        )
        runtime.publisher = Publisher(ctx, engine, link, login, captured.wake)
        runtime.publisher.start()
    return runtime
