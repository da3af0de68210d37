"""统一业务流水号 (000 §45): implementation code + yyyymmdd + hall code (4) + 5-digit daily sequence.

Every hall mints its serials offline; the hall code (assigned by the city) makes them unique city-wide. With
a standard GB/T 39046 implementation code (an..24, real ones reach 33) the serial stays within 办件编号's
an..50. Serials minted before hall codes existed (code + date + 5 digits) are still read by `parse`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

HALL_CODE = re.compile(r"^[0-9A-Z]{4}$")
ITEM_CODE = re.compile(r"^[0-9A-Za-z]{1,64}$")
# A hall that has no code from a city (it runs on its own) mints under this one.
UNASSIGNED_HALL = "0000"
MAX_SEQUENCE = 99_999
GB_SERIAL_MAX = 50  # GB/T 39046 办件编号: an..50
_NEW = re.compile(r"^(?P<item>[0-9A-Za-z]+)(?P<day>[0-9]{8})(?P<hall>[0-9A-Z]{4})(?P<seq>[0-9]{5})$")


class SerialError(ValueError):
    """A serial number that cannot be minted or read; the message says why (Chinese, for staff)."""


@dataclass(frozen=True)
class Serial:
    """The parts of a unified business serial number; `hall` is None for a serial minted before hall codes."""

    item_code: str
    day: date
    hall: str | None
    seq: int

    def __str__(self) -> str:
        return format_serial(self.item_code, self.day, self.hall or UNASSIGNED_HALL, self.seq)


def format_serial(item_code: str, day: date, hall_code: str, seq: int) -> str:
    """The serial for the `seq`-th case of this item at this hall on this day."""
    if not ITEM_CODE.match(item_code):
        raise SerialError(f"事项编码 {item_code!r} 只能由字母和数字组成")
    if not HALL_CODE.match(hall_code):
        raise SerialError(f"大厅编码 {hall_code!r} 应为4位数字或大写字母")
    if not 1 <= seq <= MAX_SEQUENCE:
        raise SerialError(f"当日流水号已用完（每个事项每天最多 {MAX_SEQUENCE} 件）")
    return f"{item_code}{day:%Y%m%d}{hall_code}{seq:05d}"


def parse_serial(serial: str) -> Serial:
    """The parts of a serial, new format first (the hall code is fixed-width, so the split is unambiguous)."""
    value = serial.strip()
    match = _NEW.match(value)
    if match is not None:
        try:
            return _parts(match, hall=match["hall"])
        except ValueError:
            pass
    legacy = re.match(r"^(?P<item>[0-9A-Za-z]+)(?P<day>[0-9]{8})(?P<seq>[0-9]{5})$", value)
    if legacy is not None:
        try:
            return _parts(legacy, hall=None)
        except ValueError:
            pass
    raise SerialError("业务流水号格式不正确，请核对受理凭证上的流水号")


def _parts(match: re.Match[str], hall: str | None) -> Serial:
    digits = match["day"]
    day = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    seq = int(match["seq"])
    if seq < 1:
        raise ValueError("sequence starts at 1")
    return Serial(match["item"], day, hall, seq)


def looks_like_serial(text: str) -> bool:
    """Whether a typed string is shaped like a serial (new or legacy) — the kiosk's check before asking."""
    try:
        parse_serial(text)
    except SerialError:
        return False
    return True


def fits_gb_case_number(serial: str) -> bool:
    """Whether the serial can be sent as GB/T 39046's 办件编号 (an..50)."""
    return len(serial) <= GB_SERIAL_MAX and serial.isascii() and serial.isalnum()
