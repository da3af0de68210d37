"""The hall's version store: a version folder is complete before `current` points at it, the switch is one
rename, a crash before it leaves the old version current; a damaged stored version is refused at start-up;
a hall with no `city:` section runs no feed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hallcore.catalog.loader import load_catalog
from hallcore.published import BundleError, check, etag, read_dir
from hallserver import cityfeed
from hallserver.cityfeed.client import CityApi
from hallserver.cityfeed.fetcher import CityFeed
from hallserver.cityfeed.store import VersionStore
from hallserver.services.context import HallContext
from tests.cityfeed.rig import DEMO_HALL, catalog_files

DEMO_CATALOG = DEMO_HALL / "catalog"


def _meta(version: int, files: dict[str, str]) -> dict[str, object]:
    return {"kind": "catalog", "version": version, "label": f"v{version}", "etag": etag("catalog", files)}


def test_install_switches_atomically_and_a_crash_before_the_switch_keeps_the_old(tmp_path: Path) -> None:
    store = VersionStore(tmp_path, "catalog")
    assert store.current() is None
    first = catalog_files()
    store.install(_meta(1, first), first)
    assert store.current().files == first  # type: ignore[union-attr]

    second = {**first, "tax.yaml": first["tax.yaml"].replace("税", "税务", 1)}
    # A crash while writing v2: its staging folder exists, half written; `current` still names v1
    staging = store.versions / ".v2-partial.tmp"
    staging.mkdir()
    (staging / "tax.yaml").write_text("domain: {", encoding="utf-8")
    assert store.current().meta["version"] == 1  # type: ignore[union-attr]
    store.install(_meta(2, second), second)
    current = store.current()
    assert current is not None and current.meta["version"] == 2 and current.files == second
    assert os.readlink(store.pointer).startswith("versions/v2-")  # relative: the folder may move
    assert sorted(p.name for p in store.versions.iterdir() if not p.name.startswith("."))[0].startswith("v1-")


def test_the_checker_is_the_halls_loader() -> None:
    files = catalog_files()
    assert check("catalog", files)  # the demo catalog passes
    with pytest.raises(BundleError) as refused:
        check("catalog", {**files, "../escape.yaml": "x"})
    assert "文件名" in refused.value.problems[0]
    with pytest.raises(BundleError):
        read_dir("calendar", Path("/nonexistent"))


def test_a_hall_without_a_city_section_runs_no_feed(hall_client: TestClient) -> None:
    ctx = hall_client.app.state.hall.ctx  # type: ignore[attr-defined]
    assert cityfeed.feed_of(ctx) is None and cityfeed.alerts(ctx) == []
    versions = cityfeed.served_versions(ctx)
    assert versions["catalog_version"] == f"local-{ctx.catalog.version}"
    assert versions["calendar_version"].startswith("local-")


def test_a_damaged_stored_version_is_not_served_and_is_reported(tmp_path: Path, ctx: HallContext) -> None:
    files = {**catalog_files()}
    files["marriage.yaml"] = files["marriage.yaml"].replace("name: 内地居民结婚登记", "name: 结婚登记（城市版）", 1)
    store = VersionStore(tmp_path, "catalog")
    folder = store.install(_meta(1, files), files)
    own = ctx.catalog.version
    good = CityFeed(ctx, CityApi("http://127.0.0.1:9", "0001." + "x" * 43), tmp_path)
    good.restore()  # the stored version is served before the first request
    assert good.served("catalog") == "v1" and ctx.catalog.version != own

    ctx.catalog = load_catalog(DEMO_CATALOG)  # a fresh start of the hall…
    (folder / "marriage.yaml").write_text("domain: [", encoding="utf-8")  # …with its stored copy damaged on disk
    damaged = CityFeed(ctx, CityApi("http://127.0.0.1:9", "0001." + "x" * 43), tmp_path)
    damaged.restore()
    assert damaged.served("catalog") is None and ctx.catalog.version == own  # the hall's own files serve
    refusal = damaged.state["catalog"].refusal
    assert refusal is not None and refusal.label == "本地保存的版本"
