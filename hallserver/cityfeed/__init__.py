"""The hall's feed from the city (issue 17, parts 4–5): catalogs and calendars published by the city
(同源发布), and cross-hall progress lookups. Off for a hall whose profile has no `city:` section.

For the rest of the server: `served_versions(ctx)` (what the device-health record reports), `alerts(ctx)`
(floor alerts for managers), `start(...)`/`stop(...)` (app wiring)."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from hallcore.published import KIND_LABELS
from hallserver.cityfeed.client import CityApi
from hallserver.cityfeed.fetcher import POLL_S, CityFeed, refusal_title
from hallserver.presentation.alerts import Alert
from hallserver.services.context import HallContext

log = logging.getLogger("hallq.cityfeed")

_FEEDS: dict[int, CityFeed] = {}  # id(ctx) → its feed: several hall apps may share one process (tests)


def feed_of(ctx: HallContext) -> CityFeed | None:
    """The running feed of a hall, if any."""
    return _FEEDS.get(id(ctx))


def served_versions(ctx: HallContext) -> dict[str, str]:
    """{"catalog_version", "calendar_version"}: the city's label (`v3`) of what the hall serves, or
    `local-<hash>` while it serves its own files (no city, or nothing published yet)."""
    feed = feed_of(ctx)
    catalog = feed.served("catalog") if feed else None
    calendar = feed.served("calendar") if feed else None
    return {
        "catalog_version": catalog or f"local-{ctx.catalog.version}",
        "calendar_version": calendar or f"local-{_calendar_hash(ctx)}",
    }


def _calendar_hash(ctx: HallContext) -> str:
    holidays = ctx.calendar.holidays
    text = repr((sorted(holidays.off.items()), sorted(holidays.workdays.items())))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def alerts(ctx: HallContext) -> list[Alert]:
    """Floor alerts: a city version refused (the last good one keeps serving), the city refusing the hall."""
    feed = feed_of(ctx)
    if feed is None:
        return []
    out = []
    for kind, state in feed.state.items():
        if state.refusal is not None:
            keeping = state.served or "本大厅原有版本"
            out.append(
                Alert(
                    f"city_publish:{kind}",
                    "city_publish_refused",
                    "warning",
                    refusal_title(kind, state.refusal),
                    f"继续使用{keeping}；问题：{'；'.join(state.refusal.problems[:2])[:200]}。请联系市级平台更正后重新发布",
                    None,
                    state.refusal.at.isoformat(),
                )
            )
        if state.problem is not None:
            out.append(
                Alert(
                    f"city_link:{kind}",
                    "city_link",
                    "warning",
                    f"无法从市级平台获取{KIND_LABELS[kind]}",
                    state.problem[:200],
                )
            )
    return out


def start(hall: Any, hall_dir: Path, secret_dir: Path, poll_s: float = POLL_S) -> CityFeed | None:
    """Start the feed of an app's hall (`app.state.hall`), None when the hall has no city API configured."""
    ctx: HallContext = hall.ctx
    api = CityApi.for_hall(ctx.profile, hall_dir, secret_dir)
    if api is None:
        return None
    from hallserver.events import Effects
    from hallserver.views import bus_state

    gateway = hall.gateway
    client = getattr(gateway, "client", None)

    def applied(kind: str) -> None:
        if kind == "catalog" and client is not None:  # kiosks refetch the catalog when this changes
            topic = gateway.topics.catalog_version()
            client.publish(topic, bus_state.catalog_version(ctx, gateway.base_url, ctx.now()), retain=True)
        hall.publisher.changed(Effects())  # the live floor recomputes its alerts

    from firmware_config.hall import ProfileError, city_identity_key
    from hallserver.cityfeed.progress import CityCases
    from hallserver.services import case_progress

    try:
        city_key = city_identity_key(secret_dir)
    except ProfileError as exc:  # a damaged key file: lookups by identity stay local, by serial still work
        log.error("%s", exc)
        city_key = None
    case_progress.set_remote(ctx, CityCases(ctx, api, city_key))  # progress: local first, then the city
    feed = CityFeed(ctx, api, secret_dir.parent / "cityfeed", applied, poll_s)
    feed.restore()
    _FEEDS[id(ctx)] = feed
    if client is not None and ctx.profile.city is not None:  # the notice, bridged in from the city broker
        from broker.topics import city_calendar_version, city_catalog_version

        for topic in (city_catalog_version(ctx.profile.city.city), city_calendar_version(ctx.profile.city.city)):
            client.subscribe(topic, feed.poke)
    feed.start()
    log.info("city feed on: %s every %.0f s", api.base_url, poll_s)
    return feed


def stop(hall: Any) -> None:
    """Stop the feed of an app's hall, if it runs."""
    from hallserver.services import case_progress

    case_progress.set_remote(hall.ctx, None)
    feed = _FEEDS.pop(id(hall.ctx), None)
    if feed is not None:
        feed.stop()
