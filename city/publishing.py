"""同源发布 (003 §10): the city's versioned catalogs and holiday calendars, published to every hall.

A version is checked with the hall's own checker (`hallcore.published.check`) before it is stored; versions
are numbered per kind (v1, v2, …) and identified by their content hash (the HTTP ETag). Publishing the files
that are already current is a no-op, so a retried publish never makes two versions. After a new version is
committed, `notify` tells the halls on `city/{city}/{kind}/version` (halls also poll the API, so a lost notice
only delays them until their next poll)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    func,
    insert,
    select,
    text,
)

from hallcore.published import KINDS, check, etag, summary

log = logging.getLogger("hallq.city.publishing")

metadata = MetaData()

publication = Table(
    "city_publication",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("etag", String(64), nullable=False),
    Column("files", JSON, nullable=False),  # file name → YAML text
    Column("summary", String(200), nullable=False),
    Column("published_by", String(64), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("kind", "version", name="uq_city_publication_kind_version"),
)


@dataclass(frozen=True)
class Publication:
    """One published version of a catalog or calendar."""

    kind: str
    version: int
    etag: str
    files: dict[str, str]
    summary: str
    published_by: str
    published_at: datetime

    @property
    def label(self) -> str:
        """The version as halls report it (`v3`)."""
        return f"v{self.version}"

    def meta(self) -> dict[str, Any]:
        """Everything but the files."""
        return {
            "kind": self.kind,
            "version": self.version,
            "label": self.label,
            "etag": self.etag,
            "summary": self.summary,
            "published_by": self.published_by,
            "published_at": self.published_at.isoformat(),
        }

    def bundle(self) -> dict[str, Any]:
        """What a hall downloads: the meta and the files."""
        return {**self.meta(), "files": self.files}


Notify = Callable[[Publication], None]


def ensure_tables(engine: Engine) -> None:
    """Create the publishing table when the city's migration has not (idempotent; tests and first start)."""
    metadata.create_all(engine, checkfirst=True)


def _row(row: Any) -> Publication:
    return Publication(
        row.kind, row.version, row.etag, dict(row.files), row.summary, row.published_by, row.published_at
    )


def current(engine: Engine, kind: str) -> Publication | None:
    """The newest version of a kind, None before the first publish."""
    with engine.connect() as conn:
        row = conn.execute(
            select(publication).where(publication.c.kind == kind).order_by(publication.c.version.desc()).limit(1)
        ).first()
    return _row(row) if row else None


def get(engine: Engine, kind: str, version: int) -> Publication | None:
    """One version of a kind."""
    with engine.connect() as conn:
        row = conn.execute(
            select(publication).where(publication.c.kind == kind, publication.c.version == version)
        ).first()
    return _row(row) if row else None


def history(engine: Engine, kind: str, limit: int = 50) -> list[dict[str, Any]]:
    """The newest versions of a kind, without their files."""
    cols = [c for c in publication.c if c.name != "files"]
    with engine.connect() as conn:
        rows = conn.execute(
            select(*cols).where(publication.c.kind == kind).order_by(publication.c.version.desc()).limit(limit)
        ).all()
    return [Publication(r.kind, r.version, r.etag, {}, r.summary, r.published_by, r.published_at).meta() for r in rows]


def publish(
    engine: Engine, kind: str, files: dict[str, str], by: str, now: datetime, notify: Notify | None = None
) -> tuple[Publication, bool]:
    """Check and store a new version; (the current version, False) when these files are already current.
    Raises hallcore.published.BundleError listing every problem; nothing is stored then."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    loaded = check(kind, files)
    tag = etag(kind, files)
    with engine.begin() as conn:
        # One publisher at a time per kind: version numbers stay gapless and ordered.
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"city_publication:{kind}"})
        latest = conn.execute(
            select(publication).where(publication.c.kind == kind).order_by(publication.c.version.desc()).limit(1)
        ).first()
        if latest is not None and latest.etag == tag:
            return _row(latest), False
        number = conn.execute(
            select(func.coalesce(func.max(publication.c.version), 0)).where(publication.c.kind == kind)
        ).scalar_one()
        made = Publication(kind, number + 1, tag, files, summary(kind, loaded)[:200], by[:64], now)
        conn.execute(
            insert(publication).values(
                kind=kind,
                version=made.version,
                etag=tag,
                files=files,
                summary=made.summary,
                published_by=made.published_by,
                published_at=now,
            )
        )
    log.info("published %s %s (%s) by %s: %s", kind, made.label, tag[:12], by, made.summary)
    if notify is not None:
        try:
            notify(made)
        except Exception:  # the version is stored; halls find it at their next poll
            log.exception("could not send the %s version notice; halls will find it at their next poll", kind)
    return made, True


@dataclass(frozen=True)
class NoticeBroker:
    """How the city's publisher account reaches the city broker (MQTT 3.1.1: clustered engines speak it)."""

    city: str
    host: str
    port: int
    username: str
    password: str
    ca_file: str | None = None
    timeout_s: float = 5.0


def topic_of(city: str, kind: str) -> str:
    """`city/{city}/catalog/version` or `city/{city}/calendar/version`."""
    from broker.topics import city_calendar_version, city_catalog_version

    return city_catalog_version(city) if kind == "catalog" else city_calendar_version(city)


def mqtt_notifier(broker: NoticeBroker) -> Notify:
    """A Notify that publishes {version, label, etag, ts} (QoS 1, not retained) and waits for the PUBACK."""
    import json

    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    def notify(made: Publication) -> None:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        client.username_pw_set(broker.username, broker.password)
        if broker.ca_file:
            client.tls_set(ca_certs=broker.ca_file)
        client.connect(broker.host, broker.port, keepalive=10)
        client.loop_start()
        try:
            payload = {"version": made.version, "label": made.label, "etag": made.etag, "ts": made.published_at}
            body = json.dumps(payload, default=lambda v: v.isoformat(), ensure_ascii=False)
            info = client.publish(topic_of(broker.city, made.kind), body, qos=1)
            info.wait_for_publish(timeout=broker.timeout_s)
            if not info.is_published():
                raise TimeoutError(f"no PUBACK from {broker.host}:{broker.port} within {broker.timeout_s} s")
        finally:
            client.disconnect()
            client.loop_stop()

    return notify


def notifier_from_env(settings: Any) -> Notify | None:
    """The notice sender for a city (its broker from CitySettings, the publisher account's password from
    HALLQ_CITY_PUBLISHER_PASSWORD or HALLQ_CITY_PUBLISHER_PASSWORD_FILE); None when no password is given:
    halls then learn of new versions at their next poll."""
    import os

    password = os.environ.get("HALLQ_CITY_PUBLISHER_PASSWORD")
    path = os.environ.get("HALLQ_CITY_PUBLISHER_PASSWORD_FILE")
    if not password and path:
        with open(path, encoding="utf-8") as handle:
            password = handle.read().strip()
    if not password:
        return None
    ca = settings.broker_ca_file
    return mqtt_notifier(
        NoticeBroker(
            city=settings.city_id,
            host=settings.broker_host,
            port=settings.broker_port,
            username=os.environ.get("HALLQ_CITY_PUBLISHER_USERNAME", "city-publisher"),
            password=password,
            ca_file=str(ca) if ca else None,
        )
    )
