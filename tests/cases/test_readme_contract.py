"""The README's webhook example is the contract: its documented signature is what the server computes, and
the server accepts exactly that request (body bytes, timestamp, headers) when its clock is at that moment."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hallserver.services import departments

README = Path(__file__).resolve().parents[2] / "README.md"


def _example() -> tuple[str, str, bytes, str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Department systems") :]
    secret = re.search(r"the secret `(whsec_[^`]+)`", section)
    ts = re.search(r"timestamp `(\d+)`", section)
    body = re.search(r"```json\n(.+?)\n```", section, re.S)
    signature = re.search(r"the signature is `(sha256=[0-9a-f]{64})`", section)
    assert secret and ts and body and signature, "the README's worked example is incomplete"
    return secret.group(1), ts.group(1), body.group(1).encode("utf-8"), signature.group(1)


def test_the_documented_signature_is_the_servers() -> None:
    secret, ts, body, signature = _example()
    assert departments.sign(secret, ts, body) == signature
    book = {"gongan": departments.Department("gongan", "市公安局", (secret,))}
    at = datetime.fromtimestamp(int(ts), UTC)
    assert departments.verify(book, "gongan", ts, signature, body, at).code == "gongan"
    tampered = body.replace("不符".encode(), "相符".encode())
    with pytest.raises(departments.DepartmentAuthError) as refused:
        departments.verify(book, "gongan", ts, signature, tampered, at)
    assert refused.value.code == "bad_signature"
