"""A hall bridged to a city on loopback: the hall's Mosquitto rendered from a profile with a `city:` section
(the code under test), and a second Mosquitto standing in for the city broker (TLS, its own accounts: the
hall's bridge may write only its own records and read only its acks and the city's notices)."""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from broker.dynsec import RECEIVE, SEND, SUBSCRIBE, password_fields
from broker.mosquitto import (
    BrokerFiles,
    BrokerProcess,
    _broker_ids,
    _copy_tls,
    _write,
    conf_text,
    find_plugin,
    free_port,
)
from broker.tls import provision_tls
from broker.topics import city_root, sync_ack
from firmware_config.devices import load_devices
from firmware_config.hall import (
    BRIDGE_PASSWORD_FILE,
    CITY_IDENTITY_KEY_FILE,
    CITY_SECRETS,
    CityLink,
    HallProfile,
    load_hall_profile,
)
from tests.bus.fixtures import DEMO_HALL, HallBroker
from tests.sync.helpers import CITY_KEY

CITY = "shenzhen"
CODE = "0001"
BRIDGE_USER = f"bridge-{CODE}"
INGEST_USER = "ingest"


@dataclass
class CityRig:
    """The two brokers and what tests log in with."""

    city: BrokerProcess
    hall: HallBroker
    profile: HallProfile
    secret_dir: Path
    ingest_password: str


def _folder(prefix: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o711)  # the `mosquitto` user must reach it when the tests run as root
    return folder


def city_broker(out: Path, bridge_password: str, ingest_password: str) -> BrokerProcess:
    """The stand-in city broker: plain listener for the test's ingest, TLS listener for the bridge."""
    owner = _broker_ids()
    if owner:
        import os

        os.chown(out, *owner)
    tls = provision_tls(out / "ca", hostnames=["localhost"], ips=["127.0.0.1"])
    files = BrokerFiles(
        out_dir=out,
        conf=out / "mosquitto.conf",
        security=out / "dynamic-security.json",
        log=out / "mosquitto.log",
        data_dir=None,
        bind="127.0.0.1",
        port=free_port(),
        tls=_copy_tls(tls, out / "tls", owner),
        tls_port=free_port(),
    )
    hall = f"hall/{CODE}/sync"
    roles = {
        "bridge": [(SEND, f"{hall}/up/#"), (RECEIVE, sync_ack(CODE)), (SUBSCRIBE, sync_ack(CODE))]
        + [(kind, f"{city_root(CITY)}/#") for kind in (RECEIVE, SUBSCRIBE)],
        "ingest": [(kind, "#") for kind in (SEND, RECEIVE, SUBSCRIBE)],
    }
    security = {
        "defaultACLAccess": {
            "publishClientSend": False,
            "publishClientReceive": False,
            "subscribe": False,
            "unsubscribe": True,
        },
        "clients": [
            {"username": BRIDGE_USER, **password_fields(bridge_password), "roles": [{"rolename": "bridge"}]},
            {"username": INGEST_USER, **password_fields(ingest_password), "roles": [{"rolename": "ingest"}]},
        ],
        "groups": [],
        "roles": [
            {"rolename": n, "acls": [{"acltype": k, "topic": t, "allow": True} for k, t in acls]}
            for n, acls in roles.items()
        ],
    }
    _write(files.security, json.dumps(security), 0o600, owner)
    _write(files.conf, conf_text(files, find_plugin()), 0o640, owner)
    _write(files.log, "", 0o640, owner)
    return BrokerProcess(files)


def city_profile(city_port: int, ca_file: Path, **link: object) -> HallProfile:
    """The demo hall with a city link to the stand-in city broker."""
    base = load_hall_profile(DEMO_HALL / "hall.yaml")
    city = CityLink(
        city=CITY,
        broker_host="127.0.0.1",
        broker_port=city_port,
        ca_file=ca_file,
        bridge_username=BRIDGE_USER,
        resend_after_s=30,
        **link,
    )
    return base.model_copy(update={"city": city})


def provision_city_secrets(secret_dir: Path, bridge_password: str) -> None:
    """What the city's provisioning gives a hall: the bridge password and the city identity key."""
    folder = secret_dir / CITY_SECRETS
    folder.mkdir(parents=True, exist_ok=True)
    (folder / BRIDGE_PASSWORD_FILE).write_text(bridge_password)
    (folder / CITY_IDENTITY_KEY_FILE).write_text(CITY_KEY.hex())


@contextmanager
def city_rig(secret_dir: Path, **link: object) -> Iterator[CityRig]:
    """Start the city broker, then the demo hall's broker bridged to it; stop both afterwards."""
    bridge_password, ingest_password = secrets.token_urlsafe(18), secrets.token_urlsafe(18)
    city_dir, hall_dir = _folder("hallq-city-"), _folder("hallq-hall-")
    city = city_broker(city_dir, bridge_password, ingest_password)
    provision_city_secrets(secret_dir, bridge_password)
    try:
        city.start()
        assert city.files.tls is not None and city.tls_port is not None
        profile = city_profile(city.tls_port, city.files.tls.cafile, **link)
        devices = load_devices(DEMO_HALL / "devices.yaml", profile)
        hall = HallBroker(profile, devices, secret_dir, out_dir=hall_dir, port=free_port())
        with hall:
            yield CityRig(city, hall, profile, secret_dir, ingest_password)
    finally:
        city.stop()
        shutil.rmtree(city_dir, ignore_errors=True)
        shutil.rmtree(hall_dir, ignore_errors=True)
