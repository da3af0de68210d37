"""Department systems (审批系统) and how they prove who they are: a webhook secret (HMAC-SHA256 over
"<timestamp>.<raw body>", rotatable: two secrets are valid during a rotation) or a bearer token for systems
that cannot sign. Kept in the hall's secret store (`<secret_dir>/departments.json`, mode 0600); tokens
only as their SHA-256. Read on every call, so a rotation takes effect without a restart."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hallcore.errors import Conflict, HallError, NotFound

DEPARTMENTS_FILE = "departments.json"
CODE = re.compile(r"^[a-z][a-z0-9_\-]{1,30}$")
REPLAY_WINDOW_S = 300  # a signed request older (or newer) than 5 minutes is refused
SIGNATURE = re.compile(r"^sha256=([0-9a-f]{64})$")


class DepartmentAuthError(HallError):
    """The caller did not prove it is a registered department (nothing more is said to it)."""

    http_status = 401


@dataclass(frozen=True)
class Department:
    """A registered department system: its code, the department it speaks for, its valid secrets."""

    code: str
    name: str  # a department name prefix: 市公安局 speaks for 市公安局户政管理支队 too
    secrets: tuple[str, ...]  # newest first; at most two during a rotation
    token_hashes: tuple[str, ...] = ()


def _path(secret_dir: Path) -> Path:
    return secret_dir / DEPARTMENTS_FILE


def load(secret_dir: Path) -> dict[str, Department]:
    """Every registered department (empty when none is registered)."""
    path = _path(secret_dir)
    if not path.exists():
        return {}
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {
        code: Department(code, d["name"], tuple(d["secrets"]), tuple(d.get("tokens", [])))
        for code, d in raw.get("departments", {}).items()
    }


def save(secret_dir: Path, book: dict[str, Department]) -> None:
    """Write the store atomically with mode 0600."""
    secret_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = {
        "version": 1,
        "departments": {
            d.code: {"name": d.name, "secrets": list(d.secrets), "tokens": list(d.token_hashes)} for d in book.values()
        },
    }
    tmp = secret_dir / f".{DEPARTMENTS_FILE}.tmp"
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(_path(secret_dir))


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def register(secret_dir: Path, code: str, name: str) -> str:
    """Register a department system; returns its first webhook secret (shown once)."""
    if not CODE.match(code):
        raise HallError("invalid", "部门代码须为小写字母开头的字母、数字、下划线或连字符（2—31位）")
    if len(name.strip()) < 2:
        raise HallError("invalid", "请填写部门名称")
    book = load(secret_dir)
    if code in book:
        raise Conflict("conflict", f"部门代码 {code} 已登记")
    secret = _new_secret()
    book[code] = Department(code, name.strip(), (secret,))
    save(secret_dir, book)
    return secret


def _get(book: dict[str, Department], code: str) -> Department:
    if code not in book:
        raise NotFound(f"没有登记部门代码 {code}")
    return book[code]


def rotate(secret_dir: Path, code: str) -> str:
    """A new secret in front; the newest old one stays valid until `retire` (two secrets at most)."""
    book = load(secret_dir)
    d = _get(book, code)
    secret = _new_secret()
    book[code] = Department(d.code, d.name, (secret, d.secrets[0]), d.token_hashes)
    save(secret_dir, book)
    return secret


def retire(secret_dir: Path, code: str) -> None:
    """End a rotation: only the newest secret stays valid."""
    book = load(secret_dir)
    d = _get(book, code)
    book[code] = Department(d.code, d.name, d.secrets[:1], d.token_hashes)
    save(secret_dir, book)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "ignore")).hexdigest()


def issue_token(secret_dir: Path, code: str) -> str:
    """A bearer token for a department system that cannot sign (shown once, kept as its hash)."""
    book = load(secret_dir)
    d = _get(book, code)
    token = "dept_" + secrets.token_urlsafe(32)
    book[code] = Department(d.code, d.name, d.secrets, (*d.token_hashes, _token_hash(token)))
    save(secret_dir, book)
    return token


def revoke_tokens(secret_dir: Path, code: str) -> None:
    """Revoke every token of a department."""
    book = load(secret_dir)
    d = _get(book, code)
    book[code] = Department(d.code, d.name, d.secrets, ())
    save(secret_dir, book)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Hallq-Signature value: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    book: dict[str, Department],
    code: str | None,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: datetime,
) -> Department:
    """The department whose secret signed this body at this time; one answer for every failure of proof."""
    refused = DepartmentAuthError("bad_signature", "签名校验失败：请核对部门代码、密钥与签名算法")
    department = book.get(code or "")
    match = SIGNATURE.match(signature or "")
    if department is None or match is None or not (timestamp or "").isdigit():
        raise refused
    assert timestamp is not None
    expected = [sign(s, timestamp, body) for s in department.secrets]
    if not any(hmac.compare_digest(e, f"sha256={match.group(1)}") for e in expected):
        raise refused
    if abs(now.timestamp() - int(timestamp)) > REPLAY_WINDOW_S:
        raise DepartmentAuthError(
            "stale_timestamp", "请求时间戳（X-Hallq-Timestamp）与大厅时间相差超过5分钟，已拒绝（防重放）"
        )
    return department


def by_token(book: dict[str, Department], token: str | None) -> Department:
    """The department holding this bearer token."""
    if token:
        digest = _token_hash(token)
        for d in book.values():
            if any(hmac.compare_digest(digest, h) for h in d.token_hashes):
                return d
    raise DepartmentAuthError("unauthorized", "部门令牌无效或已吊销")
