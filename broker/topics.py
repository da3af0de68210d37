"""The only place topic strings of the hall bus are built or parsed (PROTOCOL.md, contract v2)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SEGMENT = re.compile(r"^[a-z0-9][a-z0-9_\-.]{0,63}$")
_ACTION = re.compile(r"^[a-z_]+\.[a-z_]+$")

DEVICE_CHANNELS = ("availability", "status", "config", "reply", "job", "prompt", "event", "notice")
DEVICE_PUBLISHES = ("availability", "status", "event")  # what a device itself may write
SERVER_DEVICE_CHANNELS = ("config", "reply", "job", "prompt", "notice")  # what only the server writes


def _segment(value: str, what: str) -> str:
    if not _SEGMENT.match(value):
        raise ValueError(f"invalid {what} for a topic: {value!r}")
    return value


@dataclass(frozen=True)
class Topics:
    """Topic builder for one hall: `Topics("demo").call()` → `hall/demo/call`."""

    hall: str

    def __post_init__(self) -> None:
        _segment(self.hall, "hall id")

    @property
    def root(self) -> str:
        """Prefix of every topic of this hall."""
        return f"hall/{self.hall}"

    # server-wide
    def server_availability(self) -> str:
        """Retained online/offline of the hall server (its last will)."""
        return f"{self.root}/server/availability"

    def request(self, device: str, action: str) -> str:
        """Where a device sends an action request: under its own topic, which proves the sender (v2)."""
        if not _ACTION.match(action):
            raise ValueError(f"invalid action: {action!r}")
        return f"{self.root}/device/{_segment(device, 'device id')}/request/{action}"

    def requests(self) -> str:
        """Subscription filter for every device's requests (the server's)."""
        return f"{self.root}/device/+/request/+"

    # per device
    def device(self, device: str, channel: str) -> str:
        """`hall/{hall}/device/{device}/{channel}` for one of DEVICE_CHANNELS."""
        if channel not in DEVICE_CHANNELS:
            raise ValueError(f"unknown device channel: {channel!r}")
        return f"{self.root}/device/{_segment(device, 'device id')}/{channel}"

    def device_all(self, device: str) -> str:
        """Subscription filter for everything addressed to or from one device."""
        return f"{self.root}/device/{_segment(device, 'device id')}/#"

    def devices(self, channel: str) -> str:
        """Subscription filter for one channel of every device (the server's)."""
        if channel not in DEVICE_CHANNELS:
            raise ValueError(f"unknown device channel: {channel!r}")
        return f"{self.root}/device/+/{channel}"

    # public state
    def window_state(self, window: str) -> str:
        """Retained state of one window."""
        return f"{self.root}/window/{_segment(window, 'window id')}/state"

    def window_states(self) -> str:
        """Subscription filter for every window's state."""
        return f"{self.root}/window/+/state"

    def queue_state(self) -> str:
        """Retained waiting counts and estimates per group."""
        return f"{self.root}/queue/state"

    def call(self) -> str:
        """A call announcement (not retained)."""
        return f"{self.root}/call"

    def calls_recent(self) -> str:
        """Retained list of the latest calls, for displays that reconnect."""
        return f"{self.root}/calls/recent"

    def catalog_version(self) -> str:
        """Retained catalog version and its HTTP URL."""
        return f"{self.root}/catalog/version"

    def public(self) -> tuple[str, ...]:
        """Subscription filters of every public topic (what any device may read)."""
        return (
            self.server_availability(),
            self.window_states(),
            self.queue_state(),
            self.call(),
            self.calls_recent(),
            self.catalog_version(),
        )

    # parsing
    def parse_device(self, topic: str) -> tuple[str, str] | None:
        """(device, channel) for a device topic of this hall, else None."""
        match = re.match(rf"^{re.escape(self.root)}/device/([^/]+)/([^/]+)$", topic)
        if not match or match.group(2) not in DEVICE_CHANNELS or not _SEGMENT.match(match.group(1)):
            return None
        return match.group(1), match.group(2)

    def parse_request(self, topic: str) -> tuple[str, str] | None:
        """(device, action) of a request topic of this hall, else None. The action is returned as sent,
        valid or not, so that a request from an identifiable device can always be answered."""
        match = re.match(rf"^{re.escape(self.root)}/device/([^/]+)/request/([^/]{{1,64}})$", topic)
        if not match or not _SEGMENT.match(match.group(1)):
            return None
        return match.group(1), match.group(2)

    @staticmethod
    def valid_action(action: str) -> bool:
        """True for an action name of the contract's shape (`window.call_next`)."""
        return bool(_ACTION.match(action))


# The city link (PROTOCOL.md "The city link"). On the hall's broker `hall` is the hall id (`demo`); the
# bridge maps `hall/{id}/sync/…` to `hall/{code}/sync/…` on the city broker, where halls are known by the
# code the city assigned (`0001`), the same code every record's envelope carries.
_HALL_KEY = re.compile(r"^(?:[a-z0-9][a-z0-9_\-.]{0,63}|[0-9A-Z]{4})$")
_STREAM = re.compile(r"^[a-z][a-z_]{1,31}$")


def _hall_key(hall: str) -> str:
    if not _HALL_KEY.match(hall):
        raise ValueError(f"invalid hall id or code for a topic: {hall!r}")
    return hall


def sync_root(hall: str) -> str:
    """`hall/{hall}/sync/`: the prefix the bridge maps between the hall's and the city's tree."""
    return f"hall/{_hall_key(hall)}/sync/"


def sync_up(hall: str, stream: str) -> str:
    """Where the hall publishes one outbox record of a stream (bridged out to the city)."""
    if not _STREAM.match(stream):
        raise ValueError(f"invalid stream: {stream!r}")
    return f"{sync_root(hall)}up/{stream}"


def sync_up_all(hall: str) -> str:
    """Subscription filter for every stream of one hall."""
    return f"{sync_root(hall)}up/#"


def sync_ack(hall: str) -> str:
    """Where the city acknowledges (`upto`) the records it durably holds (bridged in to the hall)."""
    return f"{sync_root(hall)}ack"


def city_root(city: str) -> str:
    """Prefix of everything the city publishes to its halls (bridged in)."""
    return f"city/{_segment(city, 'city id')}"


def city_catalog_version(city: str) -> str:
    """Notice that the city published a new catalog (同源发布)."""
    return f"{city_root(city)}/catalog/version"


def city_calendar_version(city: str) -> str:
    """Notice that the city published a new holiday calendar."""
    return f"{city_root(city)}/calendar/version"


def bridge_state(connection: str) -> str:
    """Mosquitto's `notifications` topic of a bridge connection: payload `1` (up) or `0` (down)."""
    return f"$SYS/broker/connection/{_segment(connection, 'bridge connection')}/state"


def sync_up_shared(group: str) -> str:
    """The city ingest's shared subscription to every hall's streams: `$share/{group}/hall/+/sync/up/+`."""
    return f"$share/{_segment(group, 'share group')}/hall/+/sync/up/+"


def parse_sync_up(topic: str) -> tuple[str, str] | None:
    """(hall, stream) of a `hall/{hall}/sync/up/{stream}` topic, or None for any other topic."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != "hall" or parts[2:4] != ["sync", "up"]:
        return None
    if not _HALL_KEY.match(parts[1]) or not _STREAM.match(parts[4]):
        return None
    return parts[1], parts[4]
