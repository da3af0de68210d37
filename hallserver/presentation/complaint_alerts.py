"""Complaint alerts for the floor (000 §35–37): complaints and 办不成事 requests past their day (critical, the
oldest few named, the rest counted). No complainant data: references, kinds and deadlines only."""

from __future__ import annotations

from sqlmodel import Session

from hallcore.complaints import KIND_LABELS, ComplaintKind
from hallserver.models import Complaint
from hallserver.presentation.alerts import Alert
from hallserver.services import complaints
from hallserver.services.context import HallContext

NAMED_OVERDUE = 5


def complaint_alerts(ctx: HallContext, late: list[Complaint]) -> list[Alert]:
    """Alerts from the overdue complaints (pure)."""
    out = []
    for c in late[:NAMED_OVERDUE]:
        days = (ctx.today() - c.due_date).days
        step = f"移交{c.department}" if c.in_remit is False else "答复"
        out.append(
            Alert(
                f"complaint_overdue:{c.reference}",
                "complaint_overdue",
                "critical",
                f"{KIND_LABELS[ComplaintKind(c.kind)]}逾期{days}天未{step}",
                f"编号{c.reference}，应于{c.due_date.isoformat()}前{step}，详见投诉与办不成事页",
                c.assignee,
            )
        )
    if len(late) > NAMED_OVERDUE:
        rest = len(late) - NAMED_OVERDUE
        out.append(
            Alert(
                "complaint_overdue:more",
                "complaint_overdue",
                "critical",
                f"另有{rest}件投诉或办不成事逾期",
                "详见投诉与办不成事页的逾期清单",
            )
        )
    return out


def gather(session: Session, ctx: HallContext) -> list[Alert]:
    """The hall's overdue complaints as floor alerts."""
    return complaint_alerts(ctx, complaints.overdue(session, ctx))
