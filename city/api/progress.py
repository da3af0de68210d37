"""Cross-hall progress (issue 17 part 5): a hall server asks the city for a case accepted at another hall,
by serial number or by the applicant's identity hash under the *city's* key (never a plaintext ID). Only hall
servers may ask (their API token). The answer is what a serial number alone shows at the hall that accepted
it: status, dates, delivery and the status steps, never notes, reasons or results."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, text

from city.api.hall_auth import HallCaller, city_engine, error
from hallcore.sync import HASH

router = APIRouter(prefix="/cases", tags=["跨大厅办件查询"])
MAX_CASES = 50

_CASES = """
    SELECT c.hall, h.name AS hall_name, c.serial_no, c.item_code, c.item_name, c.status, c.accepted_at,
           c.promised_date, c.delivery, c.decided_at
    FROM case_current c JOIN city_hall h ON h.code = c.hall
"""
_HISTORY = text(
    "SELECT at, record->>'status' AS status FROM rec_cases WHERE hall = :hall AND serial_no = :serial ORDER BY seq"
)


class LookupIn(BaseModel):
    """The applicant's identity hash under the city's identity key (HMAC-SHA256, hex)."""

    model_config = ConfigDict(extra="forbid")

    person_hash: str = Field(pattern=HASH)


def _case(conn: Connection, row: Any) -> dict[str, Any]:
    history = conn.execute(_HISTORY, {"hall": row.hall, "serial": row.serial_no}).all()
    return {
        "serial_no": row.serial_no,
        "hall": row.hall,
        "hall_name": row.hall_name,
        "item_code": row.item_code,
        "item_name": row.item_name or row.item_code,
        "status": row.status,
        "accepted_at": row.accepted_at.isoformat(),
        "promised_date": row.promised_date.isoformat(),
        "delivery": row.delivery,
        "decided_at": row.decided_at.isoformat() if row.decided_at else None,
        "history": [{"at": h.at.isoformat(), "status": h.status} for h in history],
    }


@router.get("/{serial_no}", summary="按办件流水号查询（大厅服务器）")
def by_serial(
    request: Request, hall: HallCaller, serial_no: Annotated[str, Path(min_length=8, max_length=50)]
) -> JSONResponse:
    """A case by its city-wide serial number."""
    with city_engine(request).connect() as conn:
        row = conn.execute(text(_CASES + " WHERE c.serial_no = :serial LIMIT 1"), {"serial": serial_no.strip()}).first()
        if row is None:
            return error(404, "not_found", "全市范围内没有找到该办件")
        return JSONResponse(_case(conn, row))


@router.post("/lookup", summary="按申请人身份摘要查询（大厅服务器）")
def by_person(request: Request, hall: HallCaller, body: LookupIn) -> list[dict[str, Any]]:
    """Every case of the applicant in the city, newest first (the hash travels in the body, never a URL)."""
    with city_engine(request).connect() as conn:
        rows = conn.execute(
            text(_CASES + " WHERE c.person_hash = :hash ORDER BY c.accepted_at DESC LIMIT :n"),
            {"hash": body.person_hash, "n": MAX_CASES},
        ).all()
        return [_case(conn, row) for row in rows]
