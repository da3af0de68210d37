"""The city's hall registry: hall codes are assigned here (by provisioning); records from any other code
are refused by the ingest. `assign_hall` is the service H4's `hallq provision` calls."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, insert, select

from city.db.schema import city_hall
from hallcore.sync import HALL_CODE

CITY_LEVELS = ("市", "区", "街道", "社区")
# The hall profile's level (firmware_config.hall.HallLevel values) → the city's four levels.
PROFILE_LEVELS = {"市级": "市", "区县级": "区", "街道（乡镇）": "街道", "社区（村）": "社区"}
SITE_KINDS = ("hall", "self_service_point")
_CODE = re.compile(HALL_CODE)
_REGION = re.compile(r"^[0-9]{6}$")
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class RegistryError(ValueError):
    """A hall could not be registered; the message (Chinese) says why."""


@dataclass(frozen=True)
class HallEntry:
    """One registered hall or 24-hour point."""

    code: str
    hall_id: str | None
    name: str
    level: str
    region_code: str
    parent_region: str | None
    site_kind: str
    bridge_account: str
    created_at: datetime


def city_level(level: str) -> str:
    """市/区/街道/社区 from either a city level or a hall profile's level (区县级 → 区)."""
    if level in CITY_LEVELS:
        return level
    if level in PROFILE_LEVELS:
        return PROFILE_LEVELS[level]
    raise RegistryError(f"大厅层级“{level}”无效：城市只登记市、区、街道、社区四级")


def _next_code(taken: set[str]) -> str:
    """The first free code: 0001 … 9999, then codes with letters (000A …); short, readable, never reused."""
    for n in range(1, 10_000):
        if f"{n:04d}" not in taken:
            return f"{n:04d}"
    for n in range(1, 36**4):
        digits, value = [], n
        for _ in range(4):
            digits.append(_ALPHABET[value % 36])
            value //= 36
        code = "".join(reversed(digits))
        if code not in taken:
            return code
    raise RegistryError("大厅编码已用完")


def _entry(row: object) -> HallEntry:
    return HallEntry(**{c: getattr(row, c) for c in HallEntry.__dataclass_fields__})


def assign_hall(
    engine: Engine,
    *,
    name: str,
    level: str,
    region_code: str,
    now: datetime,
    hall_id: str | None = None,
    code: str | None = None,
    parent_region: str | None = None,
    site_kind: str = "hall",
    bridge_account: str | None = None,
) -> HallEntry:
    """Register a hall and give it its 4-character code (or the one asked for). Idempotent on `hall_id`
    (and on `code`): registering the same hall again returns its existing entry."""
    lvl = city_level(level)
    if not _REGION.match(region_code) or (parent_region is not None and not _REGION.match(parent_region)):
        raise RegistryError("行政区划代码应为6位数字（GB/T 2260）")
    if site_kind not in SITE_KINDS:
        raise RegistryError(f"站点类型“{site_kind}”无效：应为 hall 或 self_service_point")
    if code is not None and not _CODE.match(code):
        raise RegistryError(f"大厅编码“{code}”无效：应为4位数字或大写字母")
    if not 2 <= len(name) <= 60:
        raise RegistryError("大厅名称应为2至60个字符")
    with engine.begin() as conn:
        conn.execute(select(func.pg_advisory_xact_lock(0x63697479686C6C)))  # one assigner at a time
        for column, value in (("hall_id", hall_id), ("code", code)):
            if value is not None:
                row = conn.execute(select(city_hall).where(city_hall.c[column] == value)).first()
                if row is not None:
                    if hall_id is not None and row.hall_id not in (None, hall_id):
                        raise RegistryError(f"大厅编码 {code} 已分配给 {row.name}")
                    return _entry(row)
        taken = set(conn.execute(select(city_hall.c.code)).scalars())
        new_code = code or _next_code(taken)
        account = bridge_account or f"bridge-{new_code.lower()}"
        values = dict(
            code=new_code,
            hall_id=hall_id,
            name=name,
            level=lvl,
            region_code=region_code,
            parent_region=parent_region,
            site_kind=site_kind,
            bridge_account=account,
            created_at=now,
        )
        conn.execute(insert(city_hall).values(**values))
    return HallEntry(**values)  # type: ignore[arg-type]


def list_halls(engine: Engine) -> list[HallEntry]:
    """Every registered hall, by code."""
    with engine.connect() as conn:
        return [_entry(r) for r in conn.execute(select(city_hall).order_by(city_hall.c.code))]


def get_hall(engine: Engine, code: str) -> HallEntry | None:
    """One hall by code."""
    with engine.connect() as conn:
        row = conn.execute(select(city_hall).where(city_hall.c.code == code)).first()
    return _entry(row) if row is not None else None


class KnownHalls:
    """The registered codes, cached for the ingest; a miss rereads the registry (at most once a second),
    so a hall registered while the ingest runs is accepted without a restart."""

    def __init__(self, engine: Engine, refresh_s: float = 1.0) -> None:
        self.engine = engine
        self.refresh_s = refresh_s
        self._codes: frozenset[str] = frozenset()
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def __contains__(self, code: object) -> bool:
        if code in self._codes:
            return True
        with self._lock:
            if time.monotonic() - self._read_at >= self.refresh_s:
                with self.engine.connect() as conn:
                    self._codes = frozenset(conn.execute(select(city_hall.c.code)).scalars())
                self._read_at = time.monotonic()
        return code in self._codes
