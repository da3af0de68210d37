"""The paper a window hands over when a visit ends: the 受理凭证 (受理, 容缺受理, 当场办结 and — as the
regulation's 不予受理凭证 with its reason — 不予受理) and the 一次性告知书 (补正, every missing material at
once). Built as the printer's document models (hallcore/documents.py) so the agent can always lay
them out; pure: no web or bus imports."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from hallcore.catalog.schema import Bundle, Item, Material
from hallcore.documents import NoticeDocument, ReceiptDocument
from hallserver.models import Outcome, Person, ServiceCase, Visit, needs_paper
from hallserver.services.context import HallContext

KIND_LABELS = {"receipt": "受理凭证", "notice": "一次性告知书"}


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
                "qr": f"{base_url}/api/v1/catalog/items/{entry.code}" if base_url else None,
            }
        )
        return Paper("notice", notice.model_dump(mode="json", exclude_none=True), visit.id)
    return Paper("receipt", _receipt(session, visit, entry, named, common, staff, at, base_url), visit.id)


def _receipt(
    session: Session,
    visit: Visit,
    entry: Item | Bundle,
    owed: list[str],
    common: dict[str, Any],
    staff: str | None,
    at: str,
    base_url: str | None,
) -> dict[str, Any]:
    """受理凭证 fields: received materials (all the guide demands, minus what is owed), owed ones, dates."""
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
        "qr": f"{base_url}/api/v1/progress?serial_no={visit.serial_no}" if base_url and visit.serial_no else None,
    }
    if rejected:
        doc["rejection_reason"] = visit.reason or "不符合受理条件"
    else:
        doc["materials_received"] = [_material(m) for m in demanded if m.name not in owed]
        if visit.outcome == Outcome.rongque and owed:
            doc["materials_to_supplement"] = [_material(m) for m in _pick(entry, owed)]
            doc["supplement_deadline"] = visit.deadline.isoformat() if visit.deadline else None
    return ReceiptDocument.model_validate(doc).model_dump(mode="json", exclude_none=True)


def _pick(entry: Item | Bundle, names: list[str]) -> list[Material]:
    """The guide's materials by name, in the guide's order."""
    return [m for m in entry.materials if m.name in names]


def _material(m: Material) -> dict[str, Any]:
    return {"name": m.name, "kind": m.kind.value, "copies": m.copies, "note": m.condition or m.note}


def _window_name(ctx: HallContext, window_id: str) -> str:
    return next((w.name for w in ctx.profile.windows if w.id == window_id), window_id)
