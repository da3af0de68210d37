"""Facts about the hall that displays show but the bus state does not carry: opening hours, the 24-hour
zone, staff duties and contact (003 §37). Read from the hall profile on a development machine, or from
optional fields of the device config (`hall_info`) a provisioned board receives."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from firmware_config.devices import DeviceSet, KioskProfile
from firmware_config.hall import HallProfile, OpeningHours, Session

SELF_SERVICE_24H = "24小时自助服务区全天开放：自助取号预约、进度查询、证照自助领取"


@dataclass(frozen=True)
class StaffCard:
    """What a window display shows about the person at the window."""

    display_name: str
    duties: str | None = None
    contact: str | None = None


@dataclass(frozen=True)
class HallInfo:
    """Hall facts for the screens."""

    hall_name: str = ""
    hours: tuple[str, ...] = ()
    self_service_24h: str | None = None
    staff: dict[str, StaffCard] = field(default_factory=dict)  # by display name
    group_names: dict[str, str] = field(default_factory=dict)  # by group code

    def staff_card(self, display_name: str | None) -> StaffCard | None:
        """The card of a staff member shown under this display name."""
        if not display_name:
            return None
        return self.staff.get(display_name, StaffCard(display_name))

    @classmethod
    def from_profile(cls, hall: HallProfile, devices: DeviceSet | None = None) -> HallInfo:
        """From the hall profile (and devices: a 24-hour kiosk means a 24-hour zone)."""
        has_24h = devices is not None and any(
            isinstance(d, KioskProfile) and d.twenty_four_hour for d in devices.devices
        )
        return cls(
            hall_name=hall.hall.name,
            hours=hours_lines(hall.hours),
            self_service_24h=SELF_SERVICE_24H if has_24h else None,
            staff={s.display_name: StaffCard(s.display_name, s.duties, s.contact) for s in hall.staff},
            group_names={g.code: g.name for g in hall.groups},
        )

    @classmethod
    def from_config(cls, hall_name: str, config: dict[str, Any] | None) -> HallInfo:
        """From a device config document; its optional `hall_info` has hours, self_service_24h, staff."""
        info = (config or {}).get("hall_info") or {}
        staff = {
            str(s["display_name"]): StaffCard(str(s["display_name"]), s.get("duties"), s.get("contact"))
            for s in info.get("staff", [])
            if isinstance(s, dict) and s.get("display_name")
        }
        return cls(
            hall_name=hall_name,
            hours=tuple(str(line) for line in info.get("hours", [])),
            self_service_24h=info.get("self_service_24h"),
            staff=staff,
            group_names={str(k): str(v) for k, v in (info.get("group_names") or {}).items()},
        )


def _sessions(sessions: Sequence[Session]) -> str:
    return "、".join(f"{s.start:%H:%M}-{s.end:%H:%M}" for s in sessions)


def hours_lines(hours: OpeningHours) -> tuple[str, ...]:
    """Opening hours as short lines: 周一至周五 09:00-18:00（午间不休） / 周六 09:00-12:00 / 周日休息."""
    weekday = f"周一至周五 {_sessions(hours.weekday)}"
    if len(hours.weekday) == 1:
        weekday += "（午间不休）"
    lines = [weekday]
    closed: list[str] = []
    for name, sessions in (("周六", hours.saturday), ("周日", hours.sunday)):
        if sessions:
            lines.append(f"{name} {_sessions(sessions)}")
        else:
            closed.append(name)
    if hours.holiday_service:
        lines.append("法定节假日按周六时间办公")
    else:
        closed.append("法定节假日")
    if closed:
        lines.append("、".join(closed) + "休息")
    return tuple(lines)
