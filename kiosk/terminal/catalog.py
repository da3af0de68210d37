"""The kiosk's offline copy of the catalog (同源发布: the server's JSON, cached on disk — it holds no
personal data) and search over it with the server's own pinyin-initials index. No Kivy here."""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hallcore.catalog.loader import Catalog, load_catalog
from hallcore.catalog.schema import Bundle, Domain, Item

if TYPE_CHECKING:
    from hallcore.catalog.search import CatalogSearch

log = logging.getLogger("hallq.kiosk")
# hallcore.catalog.search scores: a name match (anywhere) ≥ 450, a keyword's start 400–450, a keyword's middle
# 300–350 (Chinese text: 700+ or 300 for a domain name)
STRONG_MATCH = 400


@dataclass(frozen=True)
class Entry:
    """An item or 一件事 bundle in a list."""

    code: str
    name: str
    domain: str


class KioskCatalog:
    """The catalog as the server publishes it, indexed for search."""

    def __init__(self, public: dict[str, Any]) -> None:
        self.public = public
        self.version = str(public.get("version", ""))
        self.catalog = _rebuild(public)
        self._index: CatalogSearch | None = None
        self._lock = threading.Lock()

    @property
    def search_index(self) -> CatalogSearch:
        """The server's pinyin index, built on first use: its pinyin dictionary costs ~55 MB of memory, which
        a kiosk that is only browsed by domain never pays (and start-up stays fast)."""
        with self._lock:
            if self._index is None:
                from hallcore.catalog.search import CatalogSearch

                self._index = CatalogSearch(self.catalog)
            return self._index

    def warm_up(self) -> None:
        """Build the search index now (e.g. in the background when the search screen opens)."""
        _ = self.search_index

    @classmethod
    def from_directory(cls, directory: Path) -> KioskCatalog:
        """From the catalog files of a hall folder (a development machine)."""
        catalog = load_catalog(directory)
        return cls({"version": catalog.version, **catalog.public})

    def domains(self) -> list[tuple[str, str]]:
        """(code, name) of every domain, in catalog order."""
        return [(d.code, d.name) for d in self.catalog.domains.values()]

    def domain_name(self, code: str) -> str:
        """A domain's name."""
        domain = self.catalog.domains.get(code)
        return domain.name if domain else code

    def entries(self, domain: str) -> list[Entry]:
        """Items and bundles of a domain."""
        return [Entry(c, self.name(c), d) for c, d in self.catalog.domain_of.items() if d == domain]

    def search(self, query: str, limit: int = 30) -> list[Entry]:
        """Ranked matches by name, pinyin or pinyin initials (jzz → 居住证). Letters that only happen to
        spell the middle of a keyword (残疾人证迁移's 残疾证转入 holds j-z-z) are dropped while anything
        matches a name or the start of a keyword: a citizen typing jzz means 居住证."""
        hits = self.search_index.search(query, limit=limit)
        if hits and hits[0].score >= STRONG_MATCH:
            hits = [h for h in hits if h.score >= STRONG_MATCH]
        return [Entry(h.code, h.name, h.domain) for h in hits]

    def name(self, code: str) -> str:
        """Display name of an item or bundle."""
        entry = self.entry(code)
        return entry.name if entry else code

    def entry(self, code: str) -> Item | Bundle | None:
        """The full guide of an item or bundle."""
        return self.catalog.items.get(code) or self.catalog.bundles.get(code)

    def domain_of(self, code: str) -> str | None:
        """The domain an item belongs to."""
        return self.catalog.domain_of.get(code)


def _rebuild(public: dict[str, Any]) -> Catalog:
    """The validated Catalog back from its public JSON (strict models: the added keys are dropped)."""
    domains = {d["code"]: Domain.model_validate(_without(d, "items", "bundles")) for d in public.get("domains", [])}
    items = {i["code"]: Item.model_validate(_without(i, "domain")) for i in public.get("items", [])}
    bundles = {b["code"]: Bundle.model_validate(_without(b, "domain")) for b in public.get("bundles", [])}
    domain_of = {e["code"]: e["domain"] for e in (*public.get("items", []), *public.get("bundles", []))}
    return Catalog(domains, items, bundles, domain_of)


def _without(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in keys}


class CatalogCache:
    """The catalog file on disk and the copy in memory; refreshed when the bus announces a new version."""

    def __init__(self, path: Path, fallback: Path | None = None) -> None:
        self.path = path
        self.fallback = fallback  # a hall folder's catalog directory, used when nothing is cached
        self.current: KioskCatalog | None = None

    def load(self) -> KioskCatalog | None:
        """The cached copy, else the hall folder's files; None when there is neither."""
        if self.path.exists():
            try:
                self.current = KioskCatalog(json.loads(self.path.read_text(encoding="utf-8")))
                return self.current
            except (OSError, ValueError) as exc:
                log.warning("kiosk: cached catalog %s unusable: %s", self.path, exc)
        if self.fallback is not None and self.fallback.is_dir():
            try:
                self.current = KioskCatalog.from_directory(self.fallback)
                self.save(self.current.public)
            except (OSError, ValueError) as exc:
                log.warning("kiosk: catalog files %s unusable: %s", self.fallback, exc)
        return self.current

    def save(self, public: dict[str, Any]) -> None:
        """Write the catalog file atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".part")
        partial.write_text(json.dumps(public, ensure_ascii=False), encoding="utf-8")
        partial.replace(self.path)

    def refresh(self, url: str, version: str, timeout: float = 10.0) -> bool:
        """Fetch the catalog when `version` is not the one we hold; True when it changed."""
        if self.current is not None and self.current.version == version:
            return False
        request = urllib.request.Request(url)
        if self.current is not None:
            request.add_header("If-None-Match", f'"{self.current.version}"')
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                public = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return False
            log.warning("kiosk: catalog fetch from %s failed: %s", url, exc)
            return False
        except (OSError, ValueError) as exc:
            log.warning("kiosk: catalog fetch from %s failed: %s", url, exc)
            return False
        fresh = KioskCatalog(public)
        self.save(public)
        self.current = fresh
        log.info("kiosk: catalog %s loaded", fresh.version)
        return True
