"""What managers see of the city link: the backlog, the oldest unacknowledged record, the last ack and the
bridge's state (GET /api/v1/sync/status, the floor page's card)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from hallserver.services.context import HallContext
from hallserver.sync import outbox
from hallserver.sync.link import LinkState, Publisher

LINK_LABELS = {
    "off": "未接入市级平台",
    LinkState.up.value: "已连接",
    LinkState.down.value: "已断开（记录在本地排队，恢复后自动补发）",
    LinkState.unknown.value: "连接状态未知",
    "no_bus": "消息代理未启用，记录在本地排队",
}
STREAM_LABELS = {
    "visits": "办事记录",
    "cases": "办件状态",
    "evaluations": "好差评",
    "rectifications": "差评整改",
    "complaints": "投诉与办不成事",
    "device_health": "设备状态",
    "queue_snapshots": "排队快照",
}


def link_status(session: Session, ctx: HallContext, publisher: Publisher | None, now: datetime) -> dict[str, Any]:
    """The city link as one JSON-ready dict (labels in Chinese for the console)."""
    b = outbox.backlog(session)
    city = ctx.profile.city
    if city is None:
        link = "off"
    elif publisher is None:
        link = "no_bus"
    else:
        link = publisher.state.value
    age = int((now - b.oldest_at).total_seconds()) if b.oldest_at else None
    return {
        "enabled": city is not None,
        "hall_code": ctx.profile.hall.code,
        "city": city.city if city else None,
        "link": link,
        "link_label": LINK_LABELS[link],
        "link_since": publisher.state_since.isoformat() if publisher and publisher.state_since else None,
        "connected_to_hall_broker": publisher.connected if publisher else False,
        "backlog": b.count,
        "backlog_by_stream": [
            {"stream": s, "label": STREAM_LABELS.get(s, s), "count": n} for s, n in sorted(b.by_stream.items())
        ],
        "oldest_unacked_at": b.oldest_at.astimezone(ctx.calendar.zone).isoformat() if b.oldest_at else None,
        "oldest_unacked_age_s": max(0, age) if age is not None else None,
        "last_seq": b.last_seq,
        "acked_upto": b.acked_upto,
        "last_ack_at": b.acked_at.astimezone(ctx.calendar.zone).isoformat() if b.acked_at else None,
    }
