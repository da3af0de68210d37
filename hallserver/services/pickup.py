"""证照自助领取: which door of which pickup cabinet holds the 证照 of which case (and so of which person, by
the keyed hash of the applicant's ID number), opened only for the ID card read on that cabinet.

No table of its own: a case put in a cabinet moves to 待领取 with delivery 自助领取, and the case's history
records where (the event's actor is `pickup:<cabinet>:<door>`); opening and collecting are events of the
same history, so the case desk and the progress query see them. Nothing here trusts a device: the cabinet
is the bus topic's device, the person the card it read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session, col, select

from hallcore.errors import Conflict, HallError, NotFound
from hallcore.identity import mask_name
from hallcore.pickup import CardIdentity, DepositPickup, PickupTaken
from hallserver.models import CaseEvent, CaseStatus, ServiceCase
from hallserver.services import people
from hallserver.services.cases import CaseAction, CaseUpdate, apply_update, get_case
from hallserver.services.context import HallContext

SELF_PICKUP = "自助领取"
OPENED = "柜门已打开"  # the note of an opening, matched when the door is reported closed


def slot_actor(cabinet: str, door: int) -> str:
    """The actor of a case event that happened at one door (≤ 40 characters)."""
    return f"pickup:{cabinet}:{door}"


@dataclass(frozen=True)
class Slot:
    """A door holding a case's 证照."""

    cabinet: str
    door: int
    serial_no: str
    item_name: str
    person_id: int | None


@dataclass(frozen=True)
class Opened:
    """What pickup.open answers: the doors opened for this person."""

    doors: tuple[int, ...]
    items: tuple[str, ...]
    masked_name: str | None

    def data(self) -> dict[str, object]:
        """The reply's `data` (no ID number, a masked name)."""
        message = f"请到第{'、'.join(str(d) for d in self.doors)}号柜门取出您的证照，取后请关好柜门"
        return {
            "doors": list(self.doors),
            "items": list(self.items),
            "masked_name": self.masked_name,
            "message": message,
        }


def occupied(session: Session, ctx: HallContext, cabinet: str) -> dict[int, Slot]:
    """The doors of a cabinet holding 证照 not yet collected, by door."""
    prefix = slot_actor(cabinet, 0)[:-1]
    rows = session.exec(
        select(ServiceCase, CaseEvent)
        .join(CaseEvent, col(CaseEvent.serial_no) == col(ServiceCase.serial_no))
        .where(ServiceCase.status == CaseStatus.ready)
        .where(ServiceCase.delivery == SELF_PICKUP)
        .where(CaseEvent.status == CaseStatus.ready)
        .where(col(CaseEvent.actor).startswith(prefix))
        .order_by(col(CaseEvent.id))
    ).all()
    slots: dict[int, Slot] = {}
    latest: dict[str, int] = {}  # the case's latest deposit wins (put back in another door)
    for case, event in rows:
        door = int(str(event.actor).rsplit(":", 1)[1])
        if case.serial_no in latest:
            slots.pop(latest[case.serial_no], None)
        latest[case.serial_no] = door
        slots[door] = Slot(cabinet, door, case.serial_no, ctx.entry_name(case.item_code), case.person_id)
    return slots


def deposit(session: Session, ctx: HallContext, cmd: DepositPickup, cabinets: Mapping[str, int], actor: str) -> Slot:
    """Put a case's 证照 in a free door: the case becomes 待领取 (自助领取) with the door in its history.
    `cabinets` is the hall's pickup cabinets and their door counts."""
    if cmd.cabinet not in cabinets:
        raise NotFound(f"没有编号为 {cmd.cabinet} 的证照自助领取柜", cabinet=cmd.cabinet)
    if cmd.door > cabinets[cmd.cabinet]:
        raise HallError("invalid", f"{cmd.cabinet} 只有 {cabinets[cmd.cabinet]} 个柜门", doors=cabinets[cmd.cabinet])
    case = get_case(session, cmd.serial_no)
    if case.person_id is None:
        raise Conflict("identity_required", "该办件没有申请人身份信息，无法凭身份证自助领取，请改为窗口领取")
    taken = occupied(session, ctx, cmd.cabinet).get(cmd.door)
    if taken is not None and taken.serial_no != case.serial_no:
        raise Conflict("door_occupied", f"第{cmd.door}号柜门已有待领取的证照，请换一个柜门")
    note = f"证照已放入{cmd.cabinet}第{cmd.door}号柜门（经办：{actor}）"[:200]
    update = CaseUpdate(status=CaseAction.ready, delivery="self_pickup", note=note)
    apply_update(session, ctx, case, update, slot_actor(cmd.cabinet, cmd.door))
    return Slot(cmd.cabinet, cmd.door, case.serial_no, ctx.entry_name(case.item_code), case.person_id)


def open_for(session: Session, ctx: HallContext, cabinet: str, identity: CardIdentity) -> Opened:
    """The doors of this cabinet holding 证照 of the person whose card it read; each opening is recorded."""
    person = people.find(session, ctx, identity.id_number)
    mine = sorted(
        (s for s in occupied(session, ctx, cabinet).values() if person is not None and s.person_id == person.id),
        key=lambda s: s.door,
    )
    if not mine:
        raise NotFound("本柜没有您待领取的证照；如已收到领取通知，请到服务台咨询")
    now = ctx.now()
    for slot in mine:
        session.add(
            CaseEvent(
                serial_no=slot.serial_no,
                at=now,
                status=CaseStatus.ready,
                note=f"{OPENED}（本人刷身份证）",
                actor=slot_actor(cabinet, slot.door),
            )
        )
    session.flush()
    masked = mask_name(identity.name) if identity.name else None
    return Opened(tuple(s.door for s in mine), tuple(s.item_name for s in mine), masked)


def taken(session: Session, ctx: HallContext, cabinet: str, cmd: PickupTaken) -> tuple[bool, str | None]:
    """A door closed again. Empty after it was opened for its owner: the case is 已领取. Not empty: nothing
    changes (the citizen may come back). A door that was never opened for anyone is refused."""
    slot = occupied(session, ctx, cabinet).get(cmd.door)
    if slot is None:
        return False, None  # nothing waited there (already collected, or a spare door closed)
    opened = session.exec(
        select(CaseEvent.id)
        .where(CaseEvent.serial_no == slot.serial_no)
        .where(CaseEvent.actor == slot_actor(cabinet, cmd.door))
        .where(col(CaseEvent.note).startswith(OPENED))
    ).first()
    if opened is None:
        raise HallError("forbidden", f"第{cmd.door}号柜门未经刷身份证打开，不能登记为已领取")
    if not cmd.empty:
        return False, slot.serial_no
    case = get_case(session, slot.serial_no)
    note = f"本人刷身份证在{cabinet}第{cmd.door}号柜门自助领取"
    apply_update(session, ctx, case, CaseUpdate(status=CaseAction.collected, note=note), slot_actor(cabinet, cmd.door))
    return True, slot.serial_no
