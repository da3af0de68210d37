"""A case's life after the window: review, 不予批准, 告知承诺准予, 办结 with delivery, and the hand-over.

One command (`CaseUpdate`) for every channel: a department's signed webhook, its token call, and the
console's case desk. Every move is checked against `FLOW` and written to the case's history."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Session

from hallcore.catalog.schema import Bundle, Item
from hallcore.errors import Conflict, HallError, NotFound
from hallserver.models import CaseEvent, CaseStatus, ServiceCase
from hallserver.services import case_hooks
from hallserver.services.context import HallContext

# How far ahead of the hall's clock an update's `at` may be (clock skew of a department's server).
FUTURE_SKEW = timedelta(minutes=5)


class CaseAction(StrEnum):
    """What an update does, by its English code (the wire value); `supplied` records owed materials."""

    reviewing = "reviewing"
    denied = "denied"
    committed = "committed"
    completed = "completed"
    ready = "ready"
    collected = "collected"
    posted = "posted"
    delivered = "delivered"
    revoked = "revoked"
    supplied = "supplied"


ACTION_STATUS: dict[CaseAction, CaseStatus] = {
    CaseAction.reviewing: CaseStatus.reviewing,
    CaseAction.denied: CaseStatus.denied,
    CaseAction.committed: CaseStatus.committed,
    CaseAction.completed: CaseStatus.completed,
    CaseAction.ready: CaseStatus.ready,
    CaseAction.collected: CaseStatus.collected,
    CaseAction.posted: CaseStatus.posted,
    CaseAction.delivered: CaseStatus.delivered,
    CaseAction.revoked: CaseStatus.revoked,
}
DELIVERY_CODES = {"window": "窗口领取", "post": "邮寄", "self_pickup": "自助领取", "electronic": "电子送达"}

_DECIDE = (CaseStatus.denied, CaseStatus.committed, CaseStatus.completed)
_HAND_OVER = (CaseStatus.ready, CaseStatus.collected, CaseStatus.posted, CaseStatus.delivered)
# Allowed moves; 中止办理 and 视为撤回 are the deadline sweep's alone (case_deadlines.py).
FLOW: dict[str, tuple[CaseStatus, ...]] = {
    CaseStatus.accepted: (CaseStatus.reviewing, *_DECIDE),
    CaseStatus.reviewing: _DECIDE,
    CaseStatus.suspended: (CaseStatus.reviewing, CaseStatus.denied),
    CaseStatus.completed: _HAND_OVER,
    CaseStatus.committed: (*_HAND_OVER, CaseStatus.revoked),
    CaseStatus.ready: (CaseStatus.collected, CaseStatus.posted),
    CaseStatus.posted: (CaseStatus.revoked,),
    CaseStatus.delivered: (CaseStatus.revoked,),
    CaseStatus.collected: (CaseStatus.revoked,),
    CaseStatus.denied: (),
    CaseStatus.withdrawn: (),
    CaseStatus.revoked: (),
}
# States in which owed 容缺 materials may still come in (the proof promised under 告知承诺: until revoked).
OWING = (CaseStatus.accepted, CaseStatus.reviewing, CaseStatus.suspended)
# 已撤销 only follows an approval on commitment (承诺未履行): its result carries this mark.
COMMITMENT_MARK = "【告知承诺】"


class CaseUpdate(BaseModel):
    """One status update of a case, as a department system or the case desk sends it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: CaseAction
    at: AwareDatetime | None = Field(default=None, description="When it happened in the department (RFC 3339)")
    reason: str | None = Field(default=None, max_length=500, description="Required for denied and revoked")
    result: str | None = Field(default=None, max_length=100, description="The result, for completed/committed")
    delivery: str | None = Field(default=None, description="window | post | self_pickup | electronic")
    tracking_no: str | None = Field(default=None, max_length=40, pattern=r"^[0-9A-Za-z\-]+$")
    note: str | None = Field(default=None, max_length=200)

    @field_validator("status", mode="before")
    @classmethod
    def _chinese_status(cls, value: object) -> object:
        """Accept the status's Chinese name too (the console's older call used it)."""
        by_label = {status.value: action.value for action, status in ACTION_STATUS.items()}
        return by_label.get(value, value) if isinstance(value, str) else value

    @field_validator("delivery")
    @classmethod
    def _delivery(cls, value: str | None) -> str | None:
        if value is None or value in DELIVERY_CODES:
            return value
        by_label = {v: k for k, v in DELIVERY_CODES.items()}
        if value in by_label:
            return by_label[value]
        raise ValueError(f"送达方式须为 {'、'.join(DELIVERY_CODES)} 之一")


class InvalidUpdate(HallError):
    """An update whose fields do not fit its status (422, like any other invalid body)."""

    http_status = 422

    def __init__(self, message: str) -> None:
        super().__init__("invalid", message)


def check_fields(update: CaseUpdate) -> None:
    """The fields a status needs: a written reason for 不予批准 and 撤销, the result for 办结."""
    if update.status in (CaseAction.denied, CaseAction.revoked) and not (update.reason and len(update.reason) >= 4):
        raise InvalidUpdate("不予批准或撤销须书面说明理由（reason，至少4个字）")
    if update.status in (CaseAction.completed, CaseAction.committed) and not update.result:
        raise InvalidUpdate("办结须写明办理结果（result）")


def get_case(session: Session, serial_no: str) -> ServiceCase:
    """A case by serial number, or not_found."""
    case = session.get(ServiceCase, serial_no.strip())
    if case is None:
        raise NotFound(f"没有流水号为 {serial_no} 的办件", serial_no=serial_no)
    return case


def department_of(ctx: HallContext, case: ServiceCase) -> str:
    """The implementing department of the case's item (the lead department of a 一件事)."""
    entry = ctx.catalog.items.get(case.item_code) or ctx.catalog.bundles.get(case.item_code)
    return entry.department if entry else ""


def item_codes_of(ctx: HallContext, department: str) -> list[str]:
    """The catalog codes (items and 一件事) a department handles: its name is a prefix of theirs."""
    entries: list[Item | Bundle] = [*ctx.catalog.items.values(), *ctx.catalog.bundles.values()]
    return [e.code for e in entries if e.department.startswith(department)]


def belongs_to(ctx: HallContext, case: ServiceCase, department: str) -> bool:
    """Whether a department (市公安局) handles the case (its item's department, e.g. 市公安局户政管理支队)."""
    return bool(department) and department_of(ctx, case).startswith(department)


def apply_update(session: Session, ctx: HallContext, case: ServiceCase, update: CaseUpdate, actor: str) -> CaseEvent:
    """Apply one update to a case: check the move and its fields, record it, fire the hooks."""
    check_fields(update)
    now = ctx.now()
    at = update.at or now
    if at > now + FUTURE_SKEW:
        raise HallError("invalid", "更新时间（at）晚于大厅当前时间，请核对系统时钟")
    if at < case.updated_at:
        raise Conflict(
            "stale_event",
            f"该更新发生在办件最近一次变化（{case.updated_at.astimezone(ctx.calendar.zone):%m-%d %H:%M}）之前，未执行",
        )
    if update.status == CaseAction.supplied:
        return _supplied(session, ctx, case, update, actor, at)
    target = ACTION_STATUS[update.status]
    _check_move(ctx, case, target)
    _apply_fields(case, target, update, at)
    if target == CaseStatus.committed:
        _start_verification(ctx, case, at)
    case.status, case.updated_at = target, at
    note = _note(target, update)
    event = CaseEvent(serial_no=case.serial_no, at=at, status=target, note=note, actor=actor[:40])
    session.add(case)
    session.add(event)
    session.flush()
    if target in (CaseStatus.completed, CaseStatus.committed, CaseStatus.denied, CaseStatus.ready):
        case_hooks.result_ready(session, ctx, case)
    return event


def _check_move(ctx: HallContext, case: ServiceCase, target: CaseStatus) -> None:
    allowed = FLOW.get(case.status, ())
    if target not in allowed:
        names = "、".join(allowed) or "无（已终结）"
        raise Conflict("invalid_transition", f"办件当前为“{case.status}”，不能改为“{target.value}”（可改为：{names}）")
    if target == CaseStatus.committed:
        item = ctx.catalog.items.get(case.item_code)
        if not isinstance(item, Item) or item.gaozhi_chengnuo is None:
            raise Conflict("not_applicable", "该事项未列入告知承诺制事项目录，不能按告知承诺准予")
    if target == CaseStatus.revoked and not on_commitment(case):
        raise Conflict("invalid_transition", "只有按告知承诺制准予的办件才能因未履行承诺而撤销")


def _start_verification(ctx: HallContext, case: ServiceCase, at: datetime) -> None:
    """告知承诺准予: the promised proof is due within the item's 核查 period (reminded like 容缺 materials;
    when it passes the department orders rectification and may revoke — never automatic, 002 §28)."""
    item = ctx.catalog.items[case.item_code]
    assert item.gaozhi_chengnuo is not None
    day = at.astimezone(ctx.calendar.zone).date()
    case.supplement_due = ctx.calendar.add_working_days(day, item.gaozhi_chengnuo.verify_days)
    case.supplied_at = case.reminded_on = None


def _apply_fields(case: ServiceCase, target: CaseStatus, update: CaseUpdate, at: datetime) -> None:
    if target in _DECIDE:
        case.decided_at = at
    if target == CaseStatus.denied or target == CaseStatus.revoked:
        case.reason = update.reason
    if target == CaseStatus.completed:
        case.result = update.result
    if target == CaseStatus.committed:
        case.result = f"{COMMITMENT_MARK}{update.result}"
    if update.delivery:
        case.delivery = DELIVERY_CODES[update.delivery]
    if target == CaseStatus.posted:
        case.delivery = "邮寄"
    if target == CaseStatus.delivered:
        case.delivery = "电子送达"


def _note(target: CaseStatus, update: CaseUpdate) -> str | None:
    parts = []
    if target in (CaseStatus.denied, CaseStatus.revoked):
        parts.append(f"理由：{update.reason}")
    if target in (CaseStatus.completed, CaseStatus.committed) and update.result:
        parts.append(f"结果：{update.result}")
    if update.delivery:
        parts.append(f"送达：{DELIVERY_CODES[update.delivery]}")
    if update.tracking_no:
        parts.append(f"运单号：{update.tracking_no}")
    if update.note:
        parts.append(update.note)
    return "；".join(parts)[:200] or None


def on_commitment(case: ServiceCase) -> bool:
    """Approved under 告知承诺制 (the result carries the mark through the hand-over)."""
    return (case.result or "").startswith(COMMITMENT_MARK)


def owes(case: ServiceCase) -> bool:
    """Materials are still owed: 容缺 ones while the case runs, a commitment's proof until it is revoked."""
    if case.supplement_due is None or case.supplied_at is not None:
        return False
    return case.status in OWING or (on_commitment(case) and case.status != CaseStatus.revoked)


def _supplied(
    session: Session, ctx: HallContext, case: ServiceCase, update: CaseUpdate, actor: str, at: datetime
) -> CaseEvent:
    """Owed materials came in (容缺, or the proof promised under 告知承诺): the deadline is met; a case stopped
    for them goes back to review."""
    if not owes(case):
        raise Conflict("invalid_transition", f"该办件（{case.status}）没有待补交的材料")
    case.supplied_at, case.updated_at = at, at
    if case.status == CaseStatus.suspended:
        case.status = CaseStatus.reviewing
    event = CaseEvent(
        serial_no=case.serial_no,
        at=at,
        status=case.status,
        note=(
            ("承诺材料已补交" if case.status == CaseStatus.committed else "容缺材料已补齐") + "；" + (update.note or "")
        )[:200],
        actor=actor[:40],
    )
    session.add(case)
    session.add(event)
    session.flush()
    return event
