"""Catalog search by Chinese name, keywords, full pinyin, pinyin initials (jzz → 居住证) and domain."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import Style, pinyin

from hallcore.catalog.loader import Catalog

_HAN = re.compile(r"[\u3400-\u9fff]")
_NOT_LETTER = re.compile(r"[^a-z0-9\u3400-\u9fff]")


@dataclass(frozen=True)
class Hit:
    """One search result: an item or a bundle, with its rank score."""

    code: str
    name: str
    kind: str  # "item" | "bundle"
    domain: str
    score: int


@dataclass(frozen=True)
class _Entry:
    code: str
    name: str
    kind: str
    domain: str
    domain_name: str
    texts: tuple[str, ...]  # name first, then keywords
    readings: tuple[tuple[frozenset[str], ...], ...]  # per text, per character: every pinyin reading


@lru_cache(maxsize=4096)
def _char_readings(char: str) -> frozenset[str]:
    if not _HAN.match(char):
        return frozenset({char.lower()})
    # Heteronyms: 长 reads chang and zhang, 行 xing and hang; a citizen may type either.
    return frozenset(pinyin(char, style=Style.NORMAL, heteronym=True)[0])


def _readings(text: str) -> tuple[frozenset[str], ...]:
    return tuple(_char_readings(c) for c in _NOT_LETTER.sub("", text.lower()))


def _initials(reading: str) -> set[str]:
    out = {reading[0]}
    if reading[:2] in ("zh", "ch", "sh"):
        out.add(reading[:2])
    return out


def pinyin_match(readings: tuple[frozenset[str], ...], query: str, start: int) -> int | None:
    """Match query letters from character `start`: each character consumes its full syllable or its
    initial, the last one may be a syllable prefix. Returns 2 for all-initials, 1 for mixed/full."""
    memo: dict[tuple[int, int], int | None] = {}

    def walk(i: int, j: int) -> int | None:
        if j == len(query):
            return 2
        if i == len(readings):
            return None
        key = (i, j)
        if key in memo:
            return memo[key]
        best: int | None = None
        rest = query[j:]
        for reading in readings[i]:
            if len(rest) < len(reading) and reading.startswith(rest) and len(rest) > 1:
                best = max(best or 0, 1)
            if rest.startswith(reading) and len(reading) > 1:
                sub = walk(i + 1, j + len(reading))
                if sub is not None:
                    best = max(best or 0, 1)
            for initial in _initials(reading):
                if rest.startswith(initial):
                    sub = walk(i + 1, j + len(initial))
                    if sub is not None:
                        best = max(best or 0, sub if len(initial) == 1 else 1)
        memo[key] = best
        return best

    return walk(start, 0)


class CatalogSearch:
    """An in-memory index of a catalog; build once per catalog version."""

    def __init__(self, catalog: Catalog) -> None:
        entries = []
        for code, domain in catalog.domain_of.items():
            entry = catalog.items.get(code) or catalog.bundles[code]
            kind = "item" if code in catalog.items else "bundle"
            texts = (entry.name, *entry.keywords)
            entries.append(
                _Entry(
                    code,
                    entry.name,
                    kind,
                    domain,
                    catalog.domains[domain].name,
                    texts,
                    tuple(_readings(t) for t in texts),
                )
            )
        self._entries = entries

    def search(self, query: str, domain: str | None = None, limit: int = 20) -> list[Hit]:
        """Ranked hits for a query; an empty query lists the domain (or everything) by name."""
        q = _NOT_LETTER.sub("", query.strip().lower())
        hits = []
        for e in self._entries:
            if domain and e.domain != domain:
                continue
            score = self._score(e, q) if q else 1
            if score:
                hits.append(Hit(e.code, e.name, e.kind, e.domain, score))
        hits.sort(key=lambda h: (-h.score, len(h.name), h.code))
        return hits[:limit]

    @staticmethod
    def _score(e: _Entry, q: str) -> int:
        name, keywords = e.texts[0], e.texts[1:]
        if _HAN.search(q):
            if name == q:
                return 1000
            if name.startswith(q):
                return 900
            if q in name:
                return 800
            if any(q in k for k in keywords):
                return 700
            return 300 if q in e.domain_name else 0
        best = 0
        for index, readings in enumerate(e.readings):
            weight = 0 if index == 0 else -150  # keywords rank below the item's own name
            for start in range(len(readings)):
                kind = pinyin_match(readings, q, start)
                if kind is None:
                    continue
                at_start = 100 if start == 0 else 0
                best = max(best, 450 + at_start + 50 * (kind == 2) + weight)
                break
        return best
