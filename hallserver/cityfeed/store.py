"""Where a hall keeps what the city published: one folder per version and a `current` pointer.

`<root>/<kind>/versions/v<N>-<etag>/` holds a version's files and `bundle.json` (its meta);
`<root>/<kind>/current` is a symlink to one of them, replaced with a single rename (atomic on POSIX): a
crash at any moment leaves either the old version or the new one current, never a half-written folder."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hallcore.published import read_dir, write_dir

KEEP_VERSIONS = 5  # older version folders are removed after a successful switch


@dataclass(frozen=True)
class Stored:
    """The current version on disk: its meta and files."""

    meta: dict[str, Any]
    files: dict[str, str]
    folder: Path


class VersionStore:
    """The versioned folders of one kind (catalog or calendar)."""

    def __init__(self, root: Path, kind: str) -> None:
        self.kind = kind
        self.base = root / kind
        self.versions = self.base / "versions"
        self.pointer = self.base / "current"

    def current(self) -> Stored | None:
        """The version the pointer names, None when there is none (raises BundleError when unreadable)."""
        if not self.pointer.is_symlink() and not self.pointer.exists():
            return None
        folder = self.pointer.resolve()
        meta = json.loads((folder / "bundle.json").read_text(encoding="utf-8"))
        return Stored(meta, read_dir(self.kind, folder), folder)

    def install(self, meta: dict[str, Any], files: dict[str, str]) -> Path:
        """Write a version's folder completely, then point `current` at it in one rename."""
        name = f"v{int(meta['version'])}-{str(meta['etag'])[:16]}"
        folder = self.versions / name
        if not folder.exists():
            staging = self.versions / f".{name}.{os.getpid()}.tmp"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            write_dir(files, staging)
            (staging / "bundle.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
            _fsync_dir(staging)
            os.replace(staging, folder)
        link = self.base / f".current.{os.getpid()}.tmp"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(Path("versions") / name)
        os.replace(link, self.pointer)  # the switch: atomic
        _fsync_dir(self.base)
        self._prune(folder)
        return folder

    def _prune(self, keep: Path) -> None:
        folders = sorted(
            (p for p in self.versions.iterdir() if p.is_dir() and not p.name.startswith(".")),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in folders[KEEP_VERSIONS:]:
            if old != keep:
                shutil.rmtree(old, ignore_errors=True)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
