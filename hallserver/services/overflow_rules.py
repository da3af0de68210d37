"""Overflow rules (004 §14) edited by managers: validated with the hall profile model, written back to the
hall's hall.yaml atomically (temp file + fsync + rename) in the transaction that writes the audit entry, and
the running profile swapped once that commits, so the very next call obeys. Only the `allocation.overflow`
node changes: comments, order and quoting of the hand-written file survive (a round-trip YAML edit), and a
file edited on disk since the server loaded it is refused rather than overwritten."""

from __future__ import annotations

import io
import os
import tempfile
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from ruamel.yaml import YAML
from sqlmodel import Session

from firmware_config.hall import HallProfile, OverflowRule, ProfileError, format_errors, load_hall_profile
from hallcore.errors import Conflict, HallError, NotFound
from hallserver.models import AuditEntry
from hallserver.services.context import HallContext

_LOCK = threading.Lock()  # one read-modify-write of hall.yaml at a time in this server


def describe(ctx: HallContext, rule: OverflowRule) -> str:
    """The rule in words, for the audit log and the page."""
    try:
        group = ctx.profile.group(rule.group).name
    except KeyError:
        group = rule.group
    return f"{group}等候满{rule.after_minutes}分钟可由{'、'.join(rule.windows)}叫号"


def _same_rule(a: OverflowRule, b: OverflowRule) -> bool:
    return a.group == b.group and sorted(a.windows) == sorted(b.windows)


def _checked(ctx: HallContext, rules: tuple[OverflowRule, ...]) -> HallProfile:
    """The running profile with these rules, validated by the profile model (unknown groups or windows)."""
    raw = ctx.profile.model_dump(mode="json")
    raw["allocation"]["overflow"] = [r.model_dump(mode="json") for r in rules]
    try:
        return HallProfile.model_validate(raw)
    except ValidationError as exc:
        message = format_errors(exc).replace("(root): ", "").replace("Value error, ", "")
        raise HallError("invalid", f"分流规则无效：{message}") from None


def _write(path: Path, ctx: HallContext, profile: HallProfile) -> str:
    """Write the new rules into hall.yaml atomically; returns the previous text (to undo)."""
    try:
        previous = path.read_text(encoding="utf-8")
        on_disk = load_hall_profile(path)
    except (OSError, ProfileError) as exc:
        raise Conflict("profile_unreadable", f"大厅配置文件无法读取，未作修改：{exc}") from None
    if _without_overflow(on_disk) != _without_overflow(ctx.profile):
        raise Conflict("profile_changed", "大厅配置文件在服务器启动后已被修改，请先重启服务器再编辑分流规则")
    text = _with_overflow(previous, [r.model_dump(mode="json") for r in profile.allocation.overflow])
    if HallProfile.model_validate(yaml.safe_load(text)) != profile:  # what we write is what we run
        raise HallError("invalid", "分流规则无法写入大厅配置")
    _replace(path, text)
    return previous


def _with_overflow(text: str, rules: list[dict[str, Any]]) -> str:
    """hall.yaml's text with only `allocation.overflow` replaced (removed when empty)."""
    editor = YAML()  # round-trip: keeps comments, key order and quoting
    editor.preserve_quotes = True
    editor.width = 4096
    doc = editor.load(text)
    allocation = doc.get("allocation")
    if allocation is None:
        doc["allocation"] = allocation = {}
    if rules:
        allocation["overflow"] = rules
    else:
        allocation.pop("overflow", None)
    out = io.StringIO()
    editor.dump(doc, out)
    return out.getvalue()


def _replace(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".hall.", suffix=".yaml.tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _without_overflow(profile: HallProfile) -> dict[str, Any]:
    raw = profile.model_dump(mode="json")
    raw["allocation"].pop("overflow", None)
    return raw


Transaction = Callable[[], AbstractContextManager[Session]]


def _apply(
    tx: Transaction, ctx: HallContext, path: Path, rules: tuple[OverflowRule, ...], actor: str, action: str, what: str
) -> tuple[OverflowRule, ...]:
    """Audit, write, commit — and only then run with the new rules; a failed commit puts the file back."""
    with _LOCK:
        profile = _checked(ctx, rules)
        previous: str | None = None
        try:
            with tx() as session:
                session.add(AuditEntry(at=ctx.now(), actor=actor, action=action, person_id=None, purpose=what[:200]))
                session.flush()
                previous = _write(path, ctx, profile)
        except BaseException:
            if previous is not None:
                _replace(path, previous)
            raise
        ctx.profile = profile  # the next call_next reads it
        return profile.allocation.overflow


def add(tx: Transaction, ctx: HallContext, path: Path, rule: OverflowRule, actor: str) -> tuple[OverflowRule, ...]:
    """Add a rule (one per group and set of windows); returns the rules now in force."""
    current = ctx.profile.allocation.overflow
    if any(_same_rule(rule, r) for r in current):
        raise Conflict("duplicate", "已有相同队列和窗口的分流规则，请先删除原规则")
    return _apply(tx, ctx, path, (*current, rule), actor, "overflow_rule_add", f"新增分流规则：{describe(ctx, rule)}")


def remove(tx: Transaction, ctx: HallContext, path: Path, index: int, actor: str) -> tuple[OverflowRule, ...]:
    """Remove the rule at this position (as listed); returns the rules now in force."""
    current = ctx.profile.allocation.overflow
    if not 0 <= index < len(current):
        raise NotFound(f"没有第 {index + 1} 条分流规则", index=index)
    rule = current[index]
    rest = current[:index] + current[index + 1 :]
    return _apply(tx, ctx, path, rest, actor, "overflow_rule_remove", f"删除分流规则：{describe(ctx, rule)}")
