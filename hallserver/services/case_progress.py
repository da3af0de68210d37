"""The progress query (000 §9, 002 §24): a case's real status and its history, by serial number or by the
applicant's ID. Only the applicant (found through the ID) sees a decision's reason and the result; a serial
number alone shows the status, the dates and the steps."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from sqlmodel import Session, col, select

from hallcore.errors import HallError
from hallserver.models import OPEN_CASE_STATES, CaseEvent, CaseStatus, ServiceCase
from hallserver.services import people
from hallserver.services.context import HallContext


@dataclass(frozen=True)
class Progress:
    """One case as the progress query shows it."""

    serial_no: str
    item_name: str
    status: str
    promised_date: date
    delivery: str
    accepted_at: datetime
    overdue: bool
    history: list[dict[str, str | None]] = field(default_factory=list)
    reason: str | None = None  # 不予批准 / 撤销 / 中止: only for the applicant
    result: str | None = None  # only for the applicant
    decision: bool = False  # a written 不予批准决定书 exists


log = logging.getLogger("hallq.cases")
CITY_DOWN = "暂时无法查询其他大厅的办件，请稍后再试"


class RemoteCases(Protocol):
    """Cases accepted at other halls of the city (hallserver.cityfeed.progress); raises CityDown."""

    def by_serial(self, serial_no: str) -> list[Progress]: ...

    def by_identity(self, id_number: str) -> list[Progress]: ...


class CityDown(RuntimeError):
    """The city could not be asked (unreachable, timed out, refused)."""


class CityUnavailable(HallError):
    """Nothing here and the city cannot be asked now: 503 on REST, `unavailable` on the bus."""

    http_status = 503


_REMOTE: dict[int, RemoteCases] = {}  # id(ctx) → the city lookup of that hall (set by its app when linked)


def set_remote(ctx: HallContext, remote: RemoteCases | None) -> None:
    """Let progress queries of this hall fall back to the city (None: local only)."""
    if remote is None:
        _REMOTE.pop(id(ctx), None)
    else:
        _REMOTE[id(ctx)] = remote


def _cases(session: Session, ctx: HallContext, serial_no: str | None, id_number: str | None) -> list[ServiceCase]:
    if serial_no:
        return [c for c in [session.get(ServiceCase, serial_no.strip())] if c is not None]
    if id_number:
        person = people.find(session, ctx, id_number)
        return list(
            session.exec(
                select(ServiceCase)
                .where(ServiceCase.person_id == (person.id if person else -1))
                .order_by(col(ServiceCase.accepted_at).desc())
            ).all()
        )
    raise HallError("invalid", "请输入办件流水号，或刷身份证查询")


def progress(
    session: Session, ctx: HallContext, serial_no: str | None = None, id_number: str | None = None
) -> list[Progress]:
    """Cases by serial number or by the applicant's ID number (looked up through the keyed hash); local first,
    then, for a hall linked to its city, the cases accepted at other halls."""
    own = id_number is not None and not serial_no
    today = ctx.today()
    out = []
    for case in _cases(session, ctx, serial_no, id_number):
        events = session.exec(
            select(CaseEvent).where(CaseEvent.serial_no == case.serial_no).order_by(col(CaseEvent.id))
        ).all()
        out.append(
            Progress(
                serial_no=case.serial_no,
                item_name=ctx.entry_name(case.item_code),
                status=case.status,
                promised_date=case.promised_date,
                delivery=case.delivery,
                accepted_at=case.accepted_at.astimezone(ctx.calendar.zone),
                overdue=case.status in OPEN_CASE_STATES and today > case.promised_date,
                history=[
                    {
                        "at": e.at.astimezone(ctx.calendar.zone).isoformat(),
                        "status": e.status,
                        "note": e.note if own or e.status in (CaseStatus.accepted,) else None,
                    }
                    for e in events
                ],
                reason=case.reason if own else None,
                result=case.result if own else None,
                decision=case.status == CaseStatus.denied,
            )
        )
    remote = _REMOTE.get(id(ctx))
    return out if remote is None else _with_city(remote, out, serial_no, id_number)


def _with_city(
    remote: RemoteCases, local: list[Progress], serial_no: str | None, id_number: str | None
) -> list[Progress]:
    """Serial: the city only when the case is not here. Identity: the city's other cases too; when the city is
    down, what this hall has, or a clear message when it has nothing."""
    if serial_no and local:
        return local
    try:
        found = remote.by_serial(serial_no.strip()) if serial_no else remote.by_identity(id_number or "")
    except CityDown as exc:
        log.warning("city progress lookup failed: %s", exc)
        if local:
            return local
        raise CityUnavailable("unavailable", CITY_DOWN) from None
    mine = {p.serial_no for p in local}
    return local + [p for p in found if p.serial_no not in mine]
