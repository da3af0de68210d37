"""Bundles the city publishes to its halls (同源发布, 003 §10): the service catalog (the same YAML files as a
hall's `catalog/`) and the holiday calendar (the same file as `firmware_config/calendar/`).

One checker for both sides: the city runs `check` before it publishes, every hall runs it again (plus its own
hall-specific cross-check) before it applies a bundle. `check` loads the files with the very loaders the hall
uses at start-up (`load_catalog`, `Holidays.load`), from a temporary folder, so a bundle the city accepts is
exactly a catalog the hall could have been started with."""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from pathlib import Path

from hallcore.calendar import Holidays
from hallcore.catalog.loader import Catalog, CatalogError, load_catalog

KINDS = ("catalog", "calendar")
KIND_LABELS = {"catalog": "事项目录", "calendar": "节假日日历"}
FILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,60}\.yaml$")
MAX_FILES = 200
MAX_BYTES = 8 * 1024 * 1024  # a whole bundle; a city catalog of ~1,500 items is well under 2 MiB


class BundleError(ValueError):
    """A bundle that must not be published or applied; `problems` lists each one in Chinese."""

    def __init__(self, kind: str, problems: list[str]) -> None:
        label = KIND_LABELS.get(kind, kind)
        super().__init__(f"{label}校验失败：" + "；".join(problems[:5]) + ("等" if len(problems) > 5 else ""))
        self.kind = kind
        self.problems = problems


def etag(kind: str, files: dict[str, str]) -> str:
    """Content hash of a bundle (its identity: the same files always give the same etag)."""
    canonical = json.dumps({"kind": kind, "files": files}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _shape(kind: str, files: dict[str, str]) -> None:
    """File names, count and size, before any file is written anywhere."""
    if kind not in KINDS:
        raise BundleError(kind, [f"未知的发布类型 {kind}（可选：{'、'.join(KINDS)}）"])
    problems = [
        f"文件名 {name!r} 不合规（小写字母、数字、-、_，以 .yaml 结尾）" for name in files if not FILE_NAME.match(name)
    ]
    if not files:
        problems.append("没有任何文件")
    if len(files) > MAX_FILES:
        problems.append(f"文件过多（{len(files)} 个，最多 {MAX_FILES} 个）")
    if kind == "calendar" and len(files) != 1:
        problems.append(f"节假日日历应恰好包含一个 YAML 文件（收到 {len(files)} 个）")
    size = sum(len(text.encode("utf-8")) for text in files.values())
    if size > MAX_BYTES:
        problems.append(f"内容过大（{size} 字节，最多 {MAX_BYTES} 字节）")
    if problems:
        raise BundleError(kind, problems)


def write_dir(files: dict[str, str], directory: Path) -> None:
    """Write a bundle's files into a folder (which must exist)."""
    for name, text in files.items():
        if not FILE_NAME.match(name):  # never a path: the name pattern has no separator
            raise BundleError("catalog", [f"文件名 {name!r} 不合规"])
        (directory / name).write_text(text, encoding="utf-8")


def read_dir(kind: str, directory: Path) -> dict[str, str]:
    """A bundle from a folder's *.yaml files (the publisher's source, or a hall's applied version)."""
    if not directory.is_dir():
        raise BundleError(kind, [f"{directory} 不是文件夹"])
    try:
        files = {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.yaml"))}
    except (OSError, UnicodeDecodeError) as exc:
        raise BundleError(kind, [f"无法读取 {directory}：{exc}"]) from exc
    _shape(kind, files)
    return files


def check(kind: str, files: dict[str, str]) -> Catalog | Holidays:
    """Validate a bundle with the hall's own loaders; returns the loaded catalog or holidays."""
    _shape(kind, files)
    with tempfile.TemporaryDirectory(prefix=f"hallq-{kind}-") as tmp:
        folder = Path(tmp)
        write_dir(files, folder)
        if kind == "catalog":
            try:
                return load_catalog(folder)
            except CatalogError as exc:
                raise BundleError(kind, exc.problems) from None
        try:
            return Holidays.load(folder / next(iter(files)))
        except ValueError as exc:  # the schema's message names the failing field
            raise BundleError(kind, [str(exc).replace(tmp + "/", "")]) from None
        except Exception as exc:  # a YAML syntax error: yaml.YAMLError is no ValueError
            raise BundleError(kind, [f"文件不是有效的 YAML：{type(exc).__name__}"]) from None


def summary(kind: str, loaded: Catalog | Holidays) -> str:
    """One Chinese line describing a checked bundle (for logs and the publish answer)."""
    if isinstance(loaded, Catalog):
        return f"{len(loaded.domains)} 个领域，{len(loaded.items)} 个事项，{len(loaded.bundles)} 个一件事"
    years = "、".join(f"{y}（{'正式' if s == 'official' else '推算'}）" for y, s in sorted(loaded.years.items()))
    return f"覆盖年份：{years}"
