"""Identity: GB 11643 check digits, keyed hashes and masking."""

from __future__ import annotations

from pathlib import Path

import pytest

from hallcore.errors import HallError
from hallcore.identity import (
    identity_hash,
    load_or_create_key,
    mask_id_number,
    mask_name,
    normalize_id_number,
)

VALID = "11010519491231002X"  # the standard's worked example


def test_check_digit() -> None:
    assert normalize_id_number(" 11010519491231002x ") == VALID
    with pytest.raises(HallError, match="校验位"):
        normalize_id_number("110105194912310021")
    with pytest.raises(HallError, match="18位"):
        normalize_id_number("1101051949123100")


def test_hash_is_keyed_and_stable() -> None:
    a = identity_hash(b"k" * 32, VALID)
    assert a == identity_hash(b"k" * 32, VALID.lower())
    assert a != identity_hash(b"j" * 32, VALID)
    assert VALID not in a and len(a) == 64


def test_masks() -> None:
    assert mask_name("张三") == "张*"
    assert mask_name("张小三") == "张*三"
    assert mask_name("欧阳小明") == "欧**明"
    assert mask_id_number(VALID) == "1101**********002X"


def test_key_file_is_private_and_reused(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path / "secret")
    assert len(key) == 32
    assert (tmp_path / "secret" / "identity.key").stat().st_mode & 0o777 == 0o600
    assert load_or_create_key(tmp_path / "secret") == key
