"""The city's view of every hall right now: live state (queue, windows, devices, backlog, last record),
alerts across halls, and what is overdue (cases 限时办结, 差评整改, complaints). Read-only; no personal data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, text

LIVE = text(
    "SELECT h.code, h.name, h.level, h.site_kind, l.last_record_at, l.last_received_at, l.queue_at, l.waiting, "
    "l.open_windows, l.longest_wait_min, l.health_at, l.devices_online, l.devices_offline, l.problems, "
    "l.catalog_version, l.calendar_version, w.upto, w.max_seq, "
    "(SELECT count(*) FROM rejected r WHERE r.hall = h.code) AS refused "
    "FROM city_hall h LEFT JOIN hall_live l ON l.hall = h.code LEFT JOIN hall_watermark w ON w.hall = h.code "
    "ORDER BY h.code"
)


@dataclass(frozen=True)
class HallLive:
    """One hall as the city sees it now."""

    code: str
    name: str
    level: str
    site_kind: str
    waiting: int | None
    longest_wait_min: int | None
    open_windows: int | None
    devices_online: int | None
    devices_offline: int | None
    problems: list[str]
    catalog_version: str | None
    upto: int  # every record up to here is held
    received_max: int  # the highest seq received
    backlog: int  # received beyond a hole: records waiting for a missing one before they can be acknowledged
    last_record_at: datetime | None
    last_received_at: datetime | None
    silent_min: int | None  # minutes since the hall last sent anything (None: never)
    refused: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        d = dict(self.__dict__)
        for k in ("last_record_at", "last_received_at"):
            d[k] = d[k].isoformat() if d[k] else None
        return d


@dataclass(frozen=True)
class Alert:
    """Something across halls a city manager should look at (message in Chinese)."""

    kind: str  # silent | devices | long_wait | overdue_cases | overdue_rectifications | overdue_complaints | refused
    hall: str
    hall_name: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dict(self.__dict__)


def live(engine: Engine, now: datetime) -> list[HallLive]:
    """Every registered hall's latest state."""
    with engine.connect() as conn:
        rows = conn.execute(LIVE).all()
    out = []
    for r in rows:
        upto, top = int(r.upto or 0), int(r.max_seq or 0)
        silent = int((now - r.last_received_at).total_seconds() // 60) if r.last_received_at else None
        out.append(
            HallLive(
                code=r.code,
                name=r.name,
                level=r.level,
                site_kind=r.site_kind,
                waiting=r.waiting,
                longest_wait_min=r.longest_wait_min,
                open_windows=r.open_windows,
                devices_online=r.devices_online,
                devices_offline=r.devices_offline,
                problems=list(r.problems or []),
                catalog_version=r.catalog_version,
                upto=upto,
                received_max=top,
                backlog=max(top - upto, 0),
                last_record_at=r.last_record_at,
                last_received_at=r.last_received_at,
                silent_min=max(silent, 0) if silent is not None else None,
                refused=int(r.refused or 0),
            )
        )
    return out


@dataclass(frozen=True)
class Overdue:
    """One overdue item across halls: a case past its promised date, a rectification or complaint past due."""

    kind: str  # case | rectification | complaint
    hall: str
    hall_name: str
    ref: str  # serial number, or the hall's id of the rectification / complaint
    department: str
    what: str
    due: date
    days_late: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        d = dict(self.__dict__)
        d["due"] = self.due.isoformat()
        return d


OVERDUE = text(
    "SELECT 'case' AS kind, c.hall, h.name, c.serial_no AS ref, c.department, "
    "coalesce(c.item_name, c.item_code) || '（' || c.status || '）' AS what, c.promised_date AS due "
    "FROM case_current c JOIN city_hall h ON h.code = c.hall WHERE c.decided_at IS NULL AND c.promised_date < :today "
    "UNION ALL SELECT 'rectification', r.hall, h.name, r.rectification_id::text, r.department, "
    "'差评整改（' || r.window_id || '窗口，' || r.state || '）', r.deadline "
    "FROM rectification_current r JOIN city_hall h ON h.code = r.hall "
    "WHERE r.closed_at IS NULL AND r.deadline < :today "
    "UNION ALL SELECT 'complaint', m.hall, h.name, m.complaint_id::text, m.department, "
    "m.kind || '（' || m.state || '）', m.due "
    "FROM complaint_current m JOIN city_hall h ON h.code = m.hall "
    "WHERE m.closed_at IS NULL AND m.due < :today "
    "ORDER BY due, hall, ref LIMIT :limit"
)


def overdue(engine: Engine, today: date, limit: int = 500) -> list[Overdue]:
    """Everything past due and still open, across halls, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(OVERDUE, {"today": today, "limit": limit}).all()
    return [
        Overdue(r.kind, r.hall, r.name, r.ref, r.department or "（未填部门）", r.what, r.due, (today - r.due).days)
        for r in rows
    ]


KIND_NAMES = {"case": "办件超期", "rectification": "差评整改超期", "complaint": "投诉超期"}


def alerts(engine: Engine, now: datetime, today: date, silent_after_min: int, long_wait_min: int) -> list[Alert]:
    """Alerts across halls: silent, devices offline, long waits, refused records, overdue items."""
    out: list[Alert] = []
    for h in live(engine, now):
        if h.silent_min is None:
            out.append(Alert("silent", h.code, h.name, "尚未收到该大厅的任何数据"))
        elif h.silent_min >= silent_after_min:
            out.append(Alert("silent", h.code, h.name, f"已 {h.silent_min} 分钟未收到数据（链路或大厅服务器可能中断）"))
        if h.devices_offline:
            out.append(Alert("devices", h.code, h.name, f"{h.devices_offline} 台设备离线"))
        if h.longest_wait_min is not None and h.longest_wait_min >= long_wait_min:
            out.append(Alert("long_wait", h.code, h.name, f"最长等候已达 {h.longest_wait_min} 分钟"))
        if h.refused:
            out.append(Alert("refused", h.code, h.name, f"{h.refused} 条记录被城市平台拒收，请检查大厅版本"))
    counts: dict[tuple[str, str, str], int] = {}
    for item in overdue(engine, today, limit=100_000):
        key = (item.kind, item.hall, item.hall_name)
        counts[key] = counts.get(key, 0) + 1
    for (kind, hall, name), n in sorted(counts.items()):
        out.append(
            Alert(f"overdue_{kind}s" if kind != "case" else "overdue_cases", hall, name, f"{KIND_NAMES[kind]} {n} 件")
        )
    return out
