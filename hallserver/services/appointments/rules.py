"""What every appointment job shares: booking codes, the holder check, the refusal for this person, dates
as citizens read them."""

from __future__ import annotations

import re
from datetime import date

from sqlmodel import Session, select

from hallcore.errors import HallError, NotFound
from hallcore.identity import identity_hash
from hallserver.models import Booking
from hallserver.services.context import HallContext

# Booking codes are read aloud and typed on kiosks: no 0/O, 1/I/L look-alikes.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
_CODE_RE = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")


class Forbidden(HallError):
    """The request is refused to this person (not the holder, or suspended)."""

    http_status = 403


def cn_date(day: date) -> str:
    """2026年12月26日."""
    return f"{day.year}年{day.month}月{day.day}日"


def normalize_code(raw: str) -> str:
    """A booking code as typed (spaces, dashes, lower case allowed) in its stored form."""
    return re.sub(r"[\s\-]", "", raw).upper()


def get_booking(session: Session, code: str, lock: bool = False) -> Booking:
    """A booking by its code (normalised), optionally locked for update; not_found otherwise."""
    value = normalize_code(code)
    booking = None
    if _CODE_RE.match(value):
        stmt = select(Booking).where(Booking.code == value).execution_options(populate_existing=True)
        booking = session.exec(stmt.with_for_update() if lock else stmt).first()
    if booking is None:
        raise NotFound(f"没有找到预约码为 {value} 的预约，请核对后重新输入", code=value)
    return booking


def check_holder(ctx: HallContext, booking: Booking, id_number: str) -> None:
    if identity_hash(ctx.identity_key, id_number) != booking.identity_hash:
        raise Forbidden("not_holder", "预约码与证件号码不匹配，只有预约人本人可以办理", code=booking.code)
