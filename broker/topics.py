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
