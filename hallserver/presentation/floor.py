"""The manager's floor in bulk: every window, group and device as the floor view shows them.

A hall of 100 windows is read in four queries (windows, their groups, the tickets at them, queue state),
not four per window: the floor snapshot and every live update go through here."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func
from sqlmodel import Session, col, select

from firmware_config.devices import BUS_KIND, DeviceSet, bound_window
from hallserver.models import Ticket, TicketState, WindowGroup, WindowRow, WindowStatus
from hallserver.services import estimates
from hallserver.services.context import HallContext
from hallserver.services.windows import STATUS_LABELS

AT_WINDOW = (TicketState.called, TicketState.serving, TicketState.suspended)
DEVICE_TYPES = {
    "kiosk": "自助终端",
    "window_display": "窗口屏",
    "hall_display": "综合屏",
    "printer": "打印机",
    "evaluator": "评价器",
    "caller": "呼叫器",
}
PAPER_LABELS = {"ok": "纸张正常", "near_end": "纸将用尽", "out": "缺纸"}


@dataclass(frozen=True)
class StaffSlot:
    """One of a window's AB角."""

    id: str
    name: str


@dataclass(frozen=True)
class FloorWindow:
    """A window on the floor view."""

    id: str
    name: str
    number: int
    kind: str
    floor: str
    status: str
    status_label: str
    status_reason: str | None
    groups: list[str]
    staff_role: str
    staff_a: StaffSlot | None
    staff_b: StaffSlot | None
    on_duty: str | None
    serving: str | None
    serving_ticket_id: int | None
    serving_state: str | None
    serving_group: str | None
    called_at: str | None  # ISO instants: the page counts "time serving" from them
    started_at: str | None
    suspended: list[str]


class Seen(Protocol):
    """What the gateway last heard from a device (gateway.DeviceSeen)."""

    online: bool
    since: datetime | None
    version: str | None
    status: dict[str, Any]


def _slot(ctx: HallContext, staff_id: str | None) -> StaffSlot | None:
    if staff_id is None:
        return None
    try:
        return StaffSlot(staff_id, ctx.profile.staff_member(staff_id).display_name)
    except KeyError:
        return StaffSlot(staff_id, staff_id)


def windows(session: Session, ctx: HallContext, only: Collection[str] | None = None) -> list[FloorWindow]:
    """Windows (all, or `only` these ids) in window-number order."""
    query = select(WindowRow).order_by(col(WindowRow.number))
    groups_q = select(WindowGroup.window_id, WindowGroup.group_code)
    tickets_q = select(Ticket).where(Ticket.service_date == ctx.today(), col(Ticket.state).in_(AT_WINDOW))
    if only is not None:
        ids = list(only)
        query = query.where(col(WindowRow.id).in_(ids))
        groups_q = groups_q.where(col(WindowGroup.window_id).in_(ids))
        tickets_q = tickets_q.where(col(Ticket.window_id).in_(ids))
    else:
        tickets_q = tickets_q.where(col(Ticket.window_id).is_not(None))
    groups_of: dict[str, list[str]] = defaultdict(list)
    for window_id, code in session.exec(groups_q).all():
        groups_of[window_id].append(code)
    active: dict[str, Ticket] = {}
    suspended: dict[str, list[str]] = defaultdict(list)
    for t in session.exec(tickets_q.order_by(col(Ticket.id))).all():
        if t.window_id is None:
            continue
        if t.state == TicketState.suspended:
            suspended[t.window_id].append(t.number)
        else:
            active[t.window_id] = t
    profile = {w.id: w for w in ctx.profile.windows}
    return [
        _window(ctx, row, profile.get(row.id), sorted(groups_of[row.id]), active.get(row.id), suspended[row.id])
        for row in session.exec(query).all()
    ]


def _window(
    ctx: HallContext, row: WindowRow, conf: Any, groups: list[str], t: Ticket | None, held: list[str]
) -> FloorWindow:
    staff_a = _slot(ctx, conf.staff.a) if conf else None
    staff_b = _slot(ctx, conf.staff.b) if conf else None
    on_duty = staff_a if row.staff_role == "A" else staff_b
    zone = ctx.calendar.zone
    return FloorWindow(
        id=row.id,
        name=row.name,
        number=row.number,
        kind=row.kind,
        floor=conf.floor if conf else "",
        status=row.status,
        status_label=STATUS_LABELS[WindowStatus(row.status)],
        status_reason=row.status_reason,
        groups=groups,
        staff_role=row.staff_role,
        staff_a=staff_a,
        staff_b=staff_b,
        on_duty=on_duty.name if on_duty else None,
        serving=t.number if t else None,
        serving_ticket_id=t.id if t else None,
        serving_state=t.state if t else None,
        serving_group=t.group_code if t else None,
        called_at=t.called_at.astimezone(zone).isoformat() if t and t.called_at else None,
        started_at=t.started_at.astimezone(zone).isoformat() if t and t.started_at else None,
        suspended=held,
    )


def groups(session: Session, ctx: HallContext, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every group: waiting, longest and estimated wait, open capacity (a window serving k groups counts 1/k,
    for the estimate), `windows_open` (how many open windows serve it: what a manager counts) and its alert
    threshold."""
    thresholds = {g.code: g.wait_alert_minutes for g in ctx.profile.groups}
    serving = open_windows_per_group(session)
    return [
        {**asdict(g), "windows_open": serving.get(g.group, 0), "wait_alert_minutes": thresholds[g.group]}
        for g in estimates.queue_state(session, ctx, now or ctx.now())
    ]


def open_windows_per_group(session: Session) -> dict[str, int]:
    """Group code → the number of open windows that serve it."""
    rows = session.exec(
        select(WindowGroup.group_code, func.count())
        .join(WindowRow, col(WindowRow.id) == WindowGroup.window_id)
        .where(WindowRow.status == WindowStatus.open)
        .group_by(WindowGroup.group_code)
    ).all()
    return {code: int(n) for code, n in rows}


def devices(
    device_set: DeviceSet | None, seen: Mapping[str, Seen], only: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """Devices with what the bus last said of them (empty without the bus)."""
    if device_set is None:
        return []
    wanted = set(only) if only is not None else None
    out = []
    for d in device_set.devices:
        if wanted is not None and d.id not in wanted:
            continue
        s = seen.get(d.id)
        status = dict(s.status) if s else {}
        paper = status.get("paper")
        out.append(
            {
                "id": d.id,
                "name": d.name,
                "type": d.type,
                "type_label": DEVICE_TYPES.get(d.type, d.type),
                "kind": BUS_KIND[d.type],
                "window": bound_window(d),
                "location": d.location,
                "online": bool(s and s.online),
                "ever_seen": bool(s and s.since),
                "since": s.since.isoformat() if s and s.since else None,
                "version": s.version if s else None,
                "paper": paper,
                "paper_label": PAPER_LABELS.get(paper) if paper else None,
                "status": status,
            }
        )
    return out
