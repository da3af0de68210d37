"""The kiosk's offline catalog: cached on disk, searched by pinyin initials without the server, refreshed
over HTTP with ETag when the bus announces a new version; hall hours from the server's answer."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hallcore.catalog.loader import load_catalog
from kiosk.terminal.catalog import CatalogCache, KioskCatalog
from kiosk.terminal.hall import load_facts
from kiosk.terminal.texts import mask_id, mask_name, reopen_text, wait_phrase
from tests.conftest import DEMO_HALL, local


@pytest.fixture
def server() -> Iterator[tuple[str, list[str | None]]]:
    """A catalog endpoint answering 304 to a current If-None-Match; records what it was asked."""
    catalog = load_catalog(DEMO_HALL / "catalog")
    body = json.dumps({"version": catalog.version, **catalog.public}, ensure_ascii=False).encode()
    asked: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.headers.get("If-None-Match"))
            if self.headers.get("If-None-Match") == f'"{catalog.version}"':
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("ETag", f'"{catalog.version}"')
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}/api/v1/catalog", asked
    httpd.shutdown()


def test_refresh_fetches_caches_and_uses_etag(tmp_path: Path, server: tuple[str, list[str | None]]) -> None:
    url, asked = server
    cache = CatalogCache(tmp_path / "catalog.json")
    assert cache.load() is None
    assert cache.refresh(url, "new") is True and asked == [None]
    version = cache.current.version if cache.current else ""
    assert cache.refresh(url, version) is False and len(asked) == 1  # same version: not even asked
    assert cache.refresh(url, "other") is False and asked[-1] == f'"{version}"'  # 304
    again = CatalogCache(tmp_path / "catalog.json").load()  # a restart, server unreachable
    assert again is not None and again.version == version
    assert [e.name for e in again.search("jzz")][:2] == ["居住证申领", "居住证签注"]


def test_unreachable_server_keeps_the_cached_copy(tmp_path: Path) -> None:
    cache = CatalogCache(tmp_path / "catalog.json", DEMO_HALL / "catalog")
    first = cache.load()
    assert first is not None and (tmp_path / "catalog.json").exists()
    assert cache.refresh("http://127.0.0.1:9/api/v1/catalog", "other") is False
    assert cache.current is first


def test_catalog_round_trips_through_its_public_json() -> None:
    catalog = KioskCatalog.from_directory(DEMO_HALL / "catalog")
    copy = KioskCatalog(json.loads(json.dumps(catalog.public, ensure_ascii=False)))
    assert copy.version == catalog.version and copy.domains() == catalog.domains()
    code = copy.search("hyd")[0].code
    assert copy.entry(code) is not None and copy.domain_of(code) is not None


def test_hall_facts_from_the_server(tmp_path: Path) -> None:
    data = {
        "name": "南山区政务服务中心",
        "hours": {"timezone": "Asia/Shanghai", "weekday": [{"start": "09:00", "end": "18:00"}]},
        "groups": [{"code": "consult", "name": "综合咨询", "prefix": "G", "domains": [], "anonymous_allowed": True}],
        "now": "2026-11-22T20:00:00+08:00",
        "is_open": False,
        "next_opening": "2026-11-23T09:00:00+08:00",
    }
    facts = load_facts(tmp_path / "hall.json", lambda: data)
    assert facts is not None and facts.anonymous_groups()[0].code == "consult"
    assert not facts.hours.is_open(local(2026, 11, 22, 20, 0)) and facts.hours.is_open(local(2026, 11, 23, 10, 0))
    offline = load_facts(tmp_path / "hall.json", None)  # from the cache file
    assert offline is not None and offline.name == "南山区政务服务中心"


def test_texts() -> None:
    assert (
        mask_name("张小三") == "张*三"
        and mask_name("张三") == "张*"
        and mask_id("440305199001011234") == "4403**********1234"
    )
    assert (
        wait_phrase(None) == "等候时间暂无法估计"
        and wait_phrase(0) == "无需等候"
        and wait_phrase(12) == "预计等候约 12 分钟"
    )
    now = local(2026, 11, 21, 20, 0)
    assert reopen_text(local(2026, 11, 23, 9, 0), now) == "现在不在办公时间，取号将于11月23日（周一） 09:00 恢复"
