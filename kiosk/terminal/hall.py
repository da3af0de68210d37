"""What the kiosk knows about its hall: name, queue groups (which allow tickets without identity) and when
walk-in service is open. From the hall profile on a development machine, or from the server's
GET /api/v1/hall (cached on disk, no personal data) on a provisioned board. No Kivy here."""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from firmware_config.hall import HallProfile, OpeningHours
from hallcore.calendar import HallCalendar, Holidays

log = logging.getLogger("hallq.kiosk")


@dataclass(frozen=True)
class Group:
    """A queue group as the kiosk needs it."""

    code: str
    name: str
    prefix: str
    domains: tuple[str, ...] = ()
    anonymous_allowed: bool = False


@dataclass(frozen=True)
class WindowInfo:
    """A window as the ticket screen names it: where to go for a queue."""

    name: str
    floor: str
    groups: tuple[str, ...]
    kind: str = ""


class Hours:
    """Opening hours: a full calendar when known, else the server's last answer (is_open, next_opening)."""

    def __init__(
        self,
        calendar: HallCalendar | None = None,
        snapshot: tuple[datetime, bool, datetime | None] | None = None,
    ) -> None:
        self.calendar = calendar
        self.snapshot = snapshot  # (asked at, open then, next opening)

    def is_open(self, now: datetime) -> bool:
        """True when walk-in ticketing is open."""
        if self.calendar is not None:
            return self.calendar.is_open(now)
        if self.snapshot is None:
            return True  # nothing known: let the server decide (it answers `closed`)
        _asked, was_open, next_opening = self.snapshot
        if not was_open and next_opening is not None:
            return now >= next_opening
        return was_open

    def is_open_for_appointments(self, now: datetime) -> bool:
        """True when booked citizens may check in (早晚弹性办 widens the day)."""
        if self.calendar is not None:
            return self.calendar.is_open_for_appointments(now)
        return self.is_open(now)

    def next_opening(self, now: datetime) -> datetime | None:
        """When ticketing opens next, if it is closed now."""
        if self.calendar is not None:
            return self.calendar.next_opening(now)
        return self.snapshot[2] if self.snapshot else None


@dataclass
class HallFacts:
    """Hall name, groups and hours."""

    name: str
    groups: dict[str, Group] = field(default_factory=dict)
    hours: Hours = field(default_factory=Hours)
    windows: tuple[WindowInfo, ...] = ()
    phone: str | None = None  # the hall's consultation phone
    green_staff_check: bool = True  # 绿色通道: staff confirm a reason the ID card cannot prove

    def windows_for(self, group: str) -> list[WindowInfo]:
        """The windows serving a queue group (the green-channel window first)."""
        found = [w for w in self.windows if group in w.groups]
        return sorted(found, key=lambda w: w.kind != "绿色通道")

    def green_windows(self) -> list[WindowInfo]:
        """The hall's green-channel windows."""
        return [w for w in self.windows if w.kind == "绿色通道"]

    def group_for_domain(self, domain: str) -> Group | None:
        """The group serving a catalog domain."""
        return next((g for g in self.groups.values() if domain in g.domains), None)

    def anonymous_groups(self) -> list[Group]:
        """Groups that issue tickets without identity (consultation)."""
        return [g for g in self.groups.values() if g.anonymous_allowed]

    @classmethod
    def from_profile(cls, hall: HallProfile, holidays: Holidays | None = None) -> HallFacts:
        """From hall.yaml (and the national calendar)."""
        groups = {g.code: Group(g.code, g.name, g.prefix, g.domains, g.anonymous_allowed) for g in hall.groups}
        windows = tuple(WindowInfo(w.name, w.floor, w.groups, str(w.kind.value)) for w in hall.windows)
        return cls(
            hall.hall.name,
            groups,
            Hours(HallCalendar(hall.hours, holidays or Holidays.load())),
            windows,
            hall.hall.phone,
            bool(getattr(hall.tickets, "green_staff_check", True)),
        )

    @classmethod
    def from_rest(cls, data: dict[str, Any]) -> HallFacts:
        """From GET /api/v1/hall: the calendar when the hours parse, plus the server's open/next opening."""
        groups = {
            str(g["code"]): Group(
                str(g["code"]),
                str(g["name"]),
                str(g.get("prefix", "")),
                tuple(g.get("domains") or ()),
                bool(g.get("anonymous_allowed")),
            )
            for g in data.get("groups", [])
        }
        calendar = None
        try:
            calendar = HallCalendar(OpeningHours.model_validate(data["hours"]), Holidays.load())
        except (KeyError, ValueError, OSError) as exc:
            log.info("kiosk: hall hours unusable (%s); using the server's open/closed answer", exc)
        now = datetime.fromisoformat(data["now"]) if data.get("now") else datetime.now().astimezone()
        nxt = datetime.fromisoformat(data["next_opening"]) if data.get("next_opening") else None
        windows = tuple(
            WindowInfo(
                str(w.get("name", "")), str(w.get("floor", "")), tuple(w.get("groups") or ()), str(w.get("kind", ""))
            )
            for w in data.get("windows", [])
            if isinstance(w, dict)
        )
        hours = Hours(calendar, (now, bool(data.get("is_open", True)), nxt))
        phone = str(data["phone"]) if data.get("phone") else None
        green_check = bool((data.get("tickets") or {}).get("green_staff_check", True))
        return cls(str(data.get("name", "")), groups, hours, windows, phone, green_check)


def fetch_json(url: str, timeout: float = 5.0) -> dict[str, Any]:
    """GET a JSON object (urllib: no extra dependency on a board)."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        value = json.loads(response.read().decode("utf-8"))
    if not isinstance(value, dict):
        raise ValueError(f"{url} did not return a JSON object")
    return value


def load_facts(cache: Path, fetch: Callable[[], dict[str, Any]] | None) -> HallFacts | None:
    """Hall facts from the server (cached to `cache`), else from the cache; None when neither works."""
    data: dict[str, Any] | None = None
    if fetch is not None:
        try:
            data = fetch()
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        except (OSError, ValueError) as exc:
            log.warning("kiosk: hall info not fetched: %s", exc)
    if data is None and cache.exists():
        try:
            data = json.loads(cache.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
    return HallFacts.from_rest(data) if isinstance(data, dict) else None
