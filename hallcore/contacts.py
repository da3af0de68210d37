"""A citizen's phone number and consent to be notified: checks, masking and the one command every channel
uses (the kiosk's `contact.consent` on the bus, window staff over REST, phone pages)."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Literal

from pydantic import Field

from hallcore.commands import Command, Identity
from hallcore.errors import HallError

# Mainland mobile numbers: 11 digits, 1 then 3-9 (SMS reaches mobiles only).
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_SEPARATORS = re.compile(r"[\s\-()（）]")

# The consent line a citizen confirms before a number is kept (shown on screens, read out by staff).
CONSENT_TEXT = "本人同意大厅通过短信或政务服务平台向此号码发送排队、预约、办件进度和评价提醒，可随时回复TD退订。"


def normalize_phone(raw: str) -> str:
    """A mainland mobile number as 11 digits (+86 / 86 / 0086 prefixes, spaces and dashes dropped), or an
    `invalid` error with a Chinese message."""
    value = _SEPARATORS.sub("", raw or "")
    for prefix in ("+86", "0086", "86"):
        if value.startswith(prefix) and len(value) == len(prefix) + 11:
            value = value[len(prefix) :]
            break
    if not value:
        raise HallError("invalid", "请输入手机号码")
    if not value.isdigit():
        raise HallError("invalid", "手机号码只能包含数字")
    if len(value) != 11:
        raise HallError("invalid", "手机号码应为11位数字，例如13800138000")
    if not _MOBILE.match(value):
        raise HallError("invalid", "请输入有效的手机号码（以13-19开头的11位号码），短信提醒仅支持手机")
    return value


def phone_hash(key: bytes, phone: str) -> str:
    """Keyed HMAC-SHA256 of a normalised number, kept apart from ID-number hashes by a label."""
    return hmac.new(key, b"phone:" + normalize_phone(phone).encode("ascii"), hashlib.sha256).hexdigest()


def mask_phone(phone: str) -> str:
    """138****5678: what screens, paper, logs and staff lists may show."""
    digits = phone.strip()
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 8 else "*" * len(digits)


class ContactConsent(Command):
    """contact.consent: a phone number and the citizen's consent to be notified about a ticket, a booking,
    a visit, or (with their identity) their cases. `consent` must be true: without it nothing is kept."""

    phone: str = Field(min_length=1, max_length=20, examples=["13800138000"])
    consent: bool = Field(description="The citizen confirmed CONSENT_TEXT; false is refused")
    ticket: str | None = Field(default=None, max_length=8, description="A ticket number issued today")
    booking_code: str | None = Field(default=None, max_length=32)
    identity: Identity | None = None
    channel: Literal["sms", "webhook"] = Field(default="sms", description="sms, or the government app (webhook)")


class VisitContact(Command):
    """Window staff record a phone number for the citizen of a visit (REST)."""

    phone: str = Field(min_length=1, max_length=20)
    consent: bool
    channel: Literal["sms", "webhook"] = "sms"


class OptOut(Command):
    """Stop every notification to a number (staff on the citizen's request; SMS replies do it themselves)."""

    phone: str = Field(min_length=1, max_length=20)


__all__ = [
    "CONSENT_TEXT",
    "ContactConsent",
    "OptOut",
    "VisitContact",
    "mask_phone",
    "normalize_phone",
    "phone_hash",
]
