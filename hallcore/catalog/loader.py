"""Load the catalog from its data files and refuse anything incomplete, vague or duplicated."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from hallcore.catalog.schema import Bundle, CatalogFile, Domain, Item


class CatalogError(ValueError):
    """A catalog that must not be served; every problem names its file, item and field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("事项目录校验失败：\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Catalog:
    """The validated catalog: domains, items and 一件事 bundles, with a content version."""

    domains: dict[str, Domain]
    items: dict[str, Item]
    bundles: dict[str, Bundle]
    domain_of: dict[str, str] = field(repr=False)  # item or bundle code -> domain code

    @cached_property
    def public(self) -> dict[str, Any]:
        """The catalog as served to every channel (同源发布): plain JSON-able data."""
        return {
            "domains": [
                {
                    **d.model_dump(mode="json"),
                    "items": [c for c, dom in self.domain_of.items() if dom == d.code and c in self.items],
                    "bundles": [c for c, dom in self.domain_of.items() if dom == d.code and c in self.bundles],
                }
                for d in self.domains.values()
            ],
            "items": [{**i.model_dump(mode="json"), "domain": self.domain_of[i.code]} for i in self.items.values()],
            "bundles": [{**b.model_dump(mode="json"), "domain": self.domain_of[b.code]} for b in self.bundles.values()],
        }

    @cached_property
    def version(self) -> str:
        """A content hash: changes exactly when the served catalog changes (used as the ETag)."""
        canonical = json.dumps(self.public, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def load_catalog(directory: Path) -> Catalog:
    """Read every *.yaml file of a catalog directory; raise CatalogError listing every problem."""
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise CatalogError([f"{directory}: 没有找到任何目录文件（*.yaml）"])
    problems: list[str] = []
    parsed: list[tuple[Path, CatalogFile]] = []
    broken_codes: set[str] = set()  # entries of files that failed: not reported again as missing
    for path in files:
        result = _parse_file(path, problems)
        if result is not None:
            parsed.append((path, result))
        else:
            broken_codes |= _raw_codes(path)
    catalog = _assemble(parsed, problems, broken_codes)
    if problems:
        raise CatalogError(problems)
    return catalog


def _parse_file(path: Path, problems: list[str]) -> CatalogFile | None:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.append(f"{path.name}: 文件无法读取或不是有效的 YAML：{exc}")
        return None
    try:
        return CatalogFile.model_validate(raw)
    except ValidationError as exc:
        problems.extend(f"{path.name}: {_describe(raw, err)}" for err in exc.errors())
        return None


def _raw_codes(path: Path) -> set[str]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return {str(entry["code"]) for entry in raw.get("items", []) if isinstance(entry, dict) and "code" in entry}
    except (OSError, UnicodeDecodeError, yaml.YAMLError, AttributeError):
        return set()


def _describe(raw: Any, err: Any) -> str:
    """Turn a pydantic error location into '事项 CODE（名称） 字段 a.b.c: message'."""
    loc = list(err["loc"])
    where = ""
    if len(loc) >= 2 and loc[0] in ("items", "bundles") and isinstance(loc[1], int):
        entry = _safe_index(raw, loc[0], loc[1])
        label = "事项" if loc[0] == "items" else "一件事"
        where = f"{label} {entry.get('code', f'#{loc[1] + 1}')}（{entry.get('name', '未命名')}） "
        loc = loc[2:]
        if len(loc) >= 2 and loc[0] == "materials" and isinstance(loc[1], int):
            materials = entry.get("materials") or []
            material = materials[loc[1]] if loc[1] < len(materials) and isinstance(materials[loc[1]], dict) else {}
            where += f"材料“{material.get('name', f'#{loc[1] + 1}')}” "
    fieldname = ".".join(str(p) for p in loc) or "(整条)"
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"{where}字段 {fieldname}: {message}"


def _safe_index(raw: Any, key: str, index: int) -> dict[str, Any]:
    try:
        entry = raw[key][index]
    except (KeyError, IndexError, TypeError):
        return {}
    return entry if isinstance(entry, dict) else {}


def _assemble(parsed: list[tuple[Path, CatalogFile]], problems: list[str], broken_codes: set[str]) -> Catalog:
    domains: dict[str, Domain] = {}
    items: dict[str, Item] = {}
    bundles: dict[str, Bundle] = {}
    domain_of: dict[str, str] = {}
    origin: dict[str, str] = {}
    for path, data in parsed:
        if data.domain.code in domains:
            problems.append(f"{path.name}: 领域代码 {data.domain.code} 与 {origin[data.domain.code]} 重复")
            continue
        domains[data.domain.code] = data.domain
        origin[data.domain.code] = path.name
        entries: tuple[Item | Bundle, ...] = (*data.items, *data.bundles)
        for entry in entries:
            if entry.code in domain_of:
                where = f"{path.name}: 事项 {entry.code}（{entry.name}）"
                problems.append(f"{where} 字段 code: 编码与 {origin[entry.code]} 中的事项重复")
                continue
            domain_of[entry.code] = data.domain.code
            origin[entry.code] = path.name
            if isinstance(entry, Item):
                items[entry.code] = entry
            else:
                bundles[entry.code] = entry
    for bundle in bundles.values():
        for code in bundle.items:
            if code not in items and code not in broken_codes:
                where = f"{origin[bundle.code]}: 一件事 {bundle.code}（{bundle.name}）"
                problems.append(f"{where} 字段 items: 引用了不存在的事项 {code}")
    return Catalog(domains, items, bundles, domain_of)
