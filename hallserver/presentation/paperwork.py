"""The paper a window hands over when a visit ends: the 受理凭证 (受理, 容缺受理, 当场办结 and — as the
regulation's 不予受理凭证 with its reason — 不予受理) and the 一次性告知书 (补正, every missing material at
once). Built as the printer's document models (hallcore/documents.py) so the agent can always lay
them out; pure: no web or bus imports."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from hallcore import links
from hallcore.catalog.schema import Bundle, Item, Material
from hallcore.documents import DecisionDocument, NoticeDocument, ReceiptDocument
from hallcore.errors import Conflict
from hallserver.models import CaseStatus, Outcome, Person, ServiceCase, Visit, needs_paper
from hallserver.services import rating_proof
from hallserver.services.context import HallContext

KIND_LABELS = {"receipt": "受理凭证", "notice": "一次性告知书"}
REMEDY = (
    "如不服本决定，可以自收到本决定书之日起六十日内依法申请行政复议，"
    "或者自收到本决定书之日起六个月内依法向人民法院提起行政诉讼。"
)


@dataclass(frozen=True)
class Paper:
    """A document for the window's printer: its job kind, the document, and what to call it on screen."""

    kind: str  # receipt | notice
    document: dict[str, Any]
    visit_id: int

    @property
    def label(self) -> str:
        """受理凭证 / 不予受理凭证 / 一次性告知书."""
        if self.kind == "receipt" and self.document.get("rejection_reason"):
            return "不予受理凭证"
        return KIND_LABELS[self.kind]


def for_visit(session: Session, ctx: HallContext, visit: Visit, base_url: str | None = None) -> Paper | None:
    """The document of a finished visit, or None when its outcome needs none."""
    if visit.id is None or not needs_paper(visit.outcome) or visit.item_code is None:
        return None
    entry = ctx.catalog.items.get(visit.item_code) or ctx.catalog.bundles.get(visit.item_code)
    if entry is None:
        return None
    person = session.get(Person, visit.person_id) if visit.person_id else None
    common = {
        "hall_name": ctx.profile.hall.name,
        "item_name": entry.name,
        "masked_name": person.masked_name if person else None,
        "window_name": _window_name(ctx, visit.window_id),
    }
    staff = ctx.profile.staff_member(visit.staff_id).display_name if visit.staff_id else None
    at = visit.ended_at.astimezone(ctx.calendar.zone).isoformat()
    named = json.loads(visit.materials) if visit.materials else []
    if visit.outcome == Outcome.supplement:
        notice = NoticeDocument.model_validate(
            {
                **common,
                "materials": [_material(m) for m in _pick(entry, named)],
                "deadline": visit.deadline.isoformat() if visit.deadline else None,
                "staff": staff,
                "phone": entry.phone,
                "issued_at": at,
                "qr": links.absolute(base_url, links.guide_path(entry.code)) if base_url else None,
            }
        )
        return Paper("notice", notice.model_dump(mode="json", exclude_none=True), visit.id)
    return Paper("receipt", _receipt(session, ctx, visit, entry, named, common, staff, at, base_url), visit.id)


def _progress_link(ctx: HallContext, serial_no: str | None, base_url: str | None) -> str | None:
    """The phone page of a case's progress, serial and 查询码 filled in (what the receipt's QR code opens)."""
    if not serial_no or not base_url:
        return None
    return links.absolute(base_url, links.case_path(serial_no, rating_proof.case_query_code(ctx, serial_no)))


def _receipt(
    session: Session,
    ctx: HallContext,
    visit: Visit,
    entry: Item | Bundle,
    owed: list[str],
    common: dict[str, Any],
    staff: str | None,
    at: str,
    base_url: str | None,
) -> dict[str, Any]:
    """受理凭证 fields: the materials received (as ticked at the desk), those still to hand in (owed under 容缺,
    or demanded but not handed in), dates."""
    case = session.get(ServiceCase, visit.serial_no) if visit.serial_no else None
    demanded = [m for m in entry.materials if m.required and not m.data_shared]
    rejected = visit.outcome == Outcome.rejected
    doc: dict[str, Any] = {
        **common,
        # A rejection opens no case: its reference is the day, window and ticket.
        "serial_no": visit.serial_no or f"{visit.service_date:%Y%m%d}-{visit.window_id}-{visit.ticket_number}",
        "acceptor": staff,
        "received_at": at,
        "promised_date": case.promised_date.isoformat() if case and not rejected else None,
        # The case's progress page (/m/case) with the 查询码 that guards it; printed beside the serial too.
        "query_code": rating_proof.case_query_code(ctx, visit.serial_no) if visit.serial_no else None,
        "qr": _progress_link(ctx, visit.serial_no, base_url),
    }
    if rejected:
        doc["rejection_reason"] = visit.reason or "不符合受理条件"
    else:
        received, missing = _handed_in(entry, demanded, visit.received, owed)
        doc["materials_received"] = [_material(m) for m in received]
        to_supplement = _pick(entry, owed) if visit.outcome == Outcome.rongque else []
        to_supplement += [m for m in missing if m not in to_supplement]
        if to_supplement:
            doc["materials_to_supplement"] = [_material(m) for m in _in_guide_order(entry, to_supplement)]
        if visit.outcome == Outcome.rongque and owed:
            doc["supplement_deadline"] = visit.deadline.isoformat() if visit.deadline else None
    return ReceiptDocument.model_validate(doc).model_dump(mode="json", exclude_none=True)


def _handed_in(
    entry: Item | Bundle, demanded: list[Material], ticked: str | None, owed: list[str]
) -> tuple[list[Material], list[Material]]:
    """(received, still to hand in). Staff tick what was actually handed in (`visit.received`, JSON); a visit
    finished without ticking (a caller device, an older console) received every demanded material but the
    owed ones. Only the ticked ones are printed as received: a receipt never claims what was not handed over.
    An unticked material the guide demands only in some cases (`condition`, e.g. one proof of three) did not
    apply; an unticked unconditional one is still to hand in."""
    if ticked is None:
        return [m for m in demanded if m.name not in owed], []
    names = set(json.loads(ticked)) - set(owed)
    received = [m for m in entry.materials if m.name in names and not m.data_shared]
    return received, [m for m in demanded if not m.condition and m.name not in names and m.name not in owed]


def _in_guide_order(entry: Item | Bundle, materials: list[Material]) -> list[Material]:
    return [m for m in entry.materials if m in materials]


def _pick(entry: Item | Bundle, names: list[str]) -> list[Material]:
    """The guide's materials by name, in the guide's order."""
    return [m for m in entry.materials if m.name in names]


def _material(m: Material) -> dict[str, Any]:
    return {"name": m.name, "kind": m.kind.value, "copies": m.copies, "note": m.condition or m.note}


def _window_name(ctx: HallContext, window_id: str) -> str:
    return next((w.name for w in ctx.profile.windows if w.id == window_id), window_id)


def decision(session: Session, ctx: HallContext, case: ServiceCase, base_url: str | None = None) -> DecisionDocument:
    """不予批准决定书 of a denied case: reason, legal basis, remedies, the deciding department's seal line."""
    if case.status != CaseStatus.denied or case.decided_at is None or not case.reason:
        raise Conflict("no_decision", f"办件 {case.serial_no} 未作出不予批准决定，没有决定书")
    entry = ctx.catalog.items.get(case.item_code) or ctx.catalog.bundles.get(case.item_code)
    person = session.get(Person, case.person_id) if case.person_id else None
    zone = ctx.calendar.zone
    decided = case.decided_at.astimezone(zone)
    return DecisionDocument(
        hall_name=ctx.profile.hall.name,
        document_no=f"不予批准〔{decided.year}〕{case.serial_no}号",
        department=entry.department if entry else ctx.profile.hall.name,
        item_name=entry.name if entry else case.item_code,
        serial_no=case.serial_no,
        masked_name=person.masked_name if person else None,
        accepted_at=case.accepted_at.astimezone(zone),
        decided_at=decided,
        reason=case.reason,
        legal_basis=list(entry.legal_basis) if isinstance(entry, Item) else [],
        remedy=REMEDY,
        qr=_progress_link(ctx, case.serial_no, base_url),
    )
