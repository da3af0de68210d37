"""Identity handling for real-name ticketing: ID number checks, keyed hashes and masking."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import date
from pathlib import Path

from hallcore.errors import HallError

_ID18 = re.compile(r"^[0-9]{17}[0-9X]$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# An ID number inside free text (15 or 18 characters), not part of a longer run of letters and digits.
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8}|\d{11})([\dXx])(?![0-9A-Za-z])")


# Documents that share the GB 11643 layout and check digit, told apart by their first digits.
ID_KINDS = (
    ("810000", "港澳居民居住证（香港）"),
    ("820000", "港澳居民居住证（澳门）"),
    ("830000", "台湾居民居住证"),
    ("9", "外国人永久居留身份证"),
)
RESIDENT_ID = "居民身份证"


def id_kind(id_number: str) -> str:
    """Which document a valid 18-character number belongs to."""
    return next((kind for prefix, kind in ID_KINDS if id_number.startswith(prefix)), RESIDENT_ID)


def normalize_id_number(raw: str) -> str:
    """Validate an 18-character ID number (resident ID, HK/Macao/Taiwan residence permits and the
    foreigner's permanent residence ID all use GB 11643's check digit); return it uppercased."""
    value = raw.strip().upper()
    if not _ID18.match(value):
        raise HallError("invalid", "证件号码应为18位，最后一位可为数字或X")
    total = sum(int(d) * w for d, w in zip(value[:17], _WEIGHTS, strict=True))
    if _CHECK[total % 11] != value[17]:
        raise HallError("invalid", "证件号码校验位不正确，请核对后重新输入")
    if not value.startswith("9") and not _valid_birth_date(value[6:14]):
        raise HallError("invalid", "证件号码中的出生日期无效，请核对后重新输入")
    return value


def _valid_birth_date(digits: str) -> bool:
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return False
    return date(1880, 1, 1) <= born <= date.today()


def identity_hash(key: bytes, id_number: str) -> str:
    """Keyed HMAC-SHA256 of a normalised ID number: lookups without storing the number."""
    return hmac.new(key, normalize_id_number(id_number).encode("ascii"), hashlib.sha256).hexdigest()


def mask_name(name: str) -> str:
    """张三 → 张*, 张小三 → 张*三, 欧阳小明 → 欧**明: what screens and paper may show."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_printed_name(name: str) -> str:
    """A name that may come masked already (from the server): kept as it is when it holds a *, else masked
    as mask_name does. What paper shows."""
    name = name.strip()
    return name if "*" in name else mask_name(name)


def mask_id_number(id_number: str) -> str:
    """4403**********1234: the first four and last four characters only (a number of eight characters or
    fewer is starred out entirely)."""
    number = id_number.strip()
    return number[:4] + "*" * (len(number) - 8) + number[-4:] if len(number) > 8 else "*" * len(number)


def mask_id_numbers(text: str) -> str:
    """Any ID number inside free text masked as mask_id_number does (4401**********1234)."""
    return _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group(0)), text)


def load_or_create_key(secret_dir: Path, name: str = "identity.key") -> bytes:
    """A 32-byte key kept in a 0600 file so hashes stay valid across restarts."""
    path = secret_dir / name
    if path.exists():
        key = bytes.fromhex(path.read_text().strip())
        if len(key) < 32:
            raise ValueError(f"{path}: key shorter than 32 bytes")
        return key
    secret_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(32)
    path.write_text(key.hex())
    path.chmod(0o600)
    return key
