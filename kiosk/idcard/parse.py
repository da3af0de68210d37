"""From the raw text block to a checked `IdCard`: dates, code tables and the GB 11643 number check (the
one in hallcore.identity). A number that fails is an `InvalidIdentityError`, never a card."""

from __future__ import annotations

import re
from datetime import date

from hallcore.errors import HallError
from hallcore.identity import normalize_id_number
from kiosk.idcard.card import CardType, IdCard
from kiosk.idcard.codes import nation_name, nationality_name, sex_name
from kiosk.idcard.errors import InvalidIdentityError, UnsupportedCardError
from kiosk.idcard.textblock import TextBlockError, decode_block

LONG_TERM = "长期"
NUMBER_FAILED = "证件号码校验未通过，无法使用本证件自助办理，请到人工窗口核验"
_OLD_FOREIGNER_NUMBER = re.compile(r"^[A-Z]{3}[0-9]{12}$")  # 2017 card: 3 letters (nationality) + 12 digits
_HMT_PREFIXES = ("81", "82", "83")


def parse_date(value: str, field: str) -> date:
    """YYYYMMDD → date; anything else is an invalid card."""
    if not re.fullmatch(r"[0-9]{8}", value):
        raise InvalidIdentityError(f"{field} is not YYYYMMDD")
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise InvalidIdentityError(f"{field} is not a real date") from None


def parse_valid_to(value: str) -> date | None:
    """An end date, or None for 长期."""
    return None if value == LONG_TERM else parse_date(value, "valid_to")


def check_number(kind: CardType, number: str, birth: date) -> str:
    """The normalised number, or InvalidIdentityError (detail never contains the number)."""
    if kind is CardType.FOREIGNER:
        if not _OLD_FOREIGNER_NUMBER.match(number):
            raise InvalidIdentityError("2017 foreigner card number is not 3 letters + 12 digits", NUMBER_FAILED)
        return number  # no published check digit for the 15-character number
    try:
        value = normalize_id_number(number)
    except HallError as exc:
        raise InvalidIdentityError(f"{kind.name} number fails GB 11643: {exc.message}", NUMBER_FAILED) from None
    if kind is CardType.FOREIGNER_2023 and not value.startswith("9"):
        raise InvalidIdentityError("2023 foreigner card number does not start with 9")
    if kind is CardType.HMT_RESIDENCE and not value.startswith(_HMT_PREFIXES):
        raise InvalidIdentityError("residence permit number does not start with 81, 82 or 83")
    if kind is CardType.RESIDENT and value.startswith(("9", *_HMT_PREFIXES)):
        raise InvalidIdentityError("resident card carries a permit or foreigner number")
    if kind is not CardType.FOREIGNER_2023 and value[6:14] != birth.strftime("%Y%m%d"):
        raise InvalidIdentityError("birth date on the card differs from the one in the number")
    return value


def parse_text_block(block: bytes, photo_wlt: bytes = b"") -> IdCard:
    """A checked card from the 256-byte block (photo not decoded yet)."""
    try:
        kind, f = decode_block(block)
    except TextBlockError as exc:
        raise UnsupportedCardError(str(exc)) from None
    birth = parse_date(f["birth"], "birth")
    valid_from, valid_to = parse_date(f["valid_from"], "valid_from"), parse_valid_to(f["valid_to"])
    if valid_to is not None and valid_to < valid_from:
        raise InvalidIdentityError("card validity ends before it starts")
    number = check_number(kind, f["id_number"].upper(), birth)
    foreign = kind in (CardType.FOREIGNER, CardType.FOREIGNER_2023)
    english = (f.get("english_name", "") + f.get("english_name_more", "")).strip()
    return IdCard(
        card_type=kind,
        name=f["name"] or english,
        sex=sex_name(f["sex"]),
        nation=nationality_name(f["nationality"]) if foreign else nation_name(f.get("nation", "")),
        birth=birth,
        address=f.get("address", ""),
        id_number=number,
        issuer=f.get("issuer", ""),
        valid_from=valid_from,
        valid_to=valid_to,
        photo_wlt=photo_wlt,
        english_name=english,
        pass_number=f.get("pass_number", ""),
        issue_count=f.get("issue_count", ""),
        authority_code=f.get("authority_code", ""),
    )
