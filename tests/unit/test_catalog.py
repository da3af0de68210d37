"""Catalog loading: the demo catalog is complete; broken catalogs are refused naming file, item, field."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from hallcore.catalog.loader import Catalog, CatalogError, load_catalog
from tests.conftest import DEMO_HALL

DEMO_CATALOG = DEMO_HALL / "catalog"


@pytest.fixture(scope="module")
def demo() -> Catalog:
    return load_catalog(DEMO_CATALOG)


def test_demo_catalog_size_and_spread(demo: Catalog) -> None:
    item_domains = {demo.domain_of[c] for c in demo.items}
    assert len(demo.items) >= 40
    assert len(item_domains) >= 8
    assert len(demo.bundles) >= 2
    assert {
        "residence",
        "social_security",
        "medical_insurance",
        "housing_fund",
        "real_estate",
        "household",
        "exit_entry",
        "marriage",
        "business",
        "tax",
        "disability",
    } <= item_domains


def test_demo_catalog_uses_rongque_and_data_sharing(demo: Catalog) -> None:
    with_rongque = [i for i in demo.items.values() if i.rongque]
    shared = [m for i in demo.items.values() for m in i.materials if m.data_shared]
    assert len(with_rongque) >= 10
    assert shared and all(not m.required for m in shared)


def test_bundles_reference_real_items(demo: Catalog) -> None:
    for bundle in demo.bundles.values():
        assert all(code in demo.items for code in bundle.items)


def test_version_is_a_content_hash(demo: Catalog, tmp_path: Path) -> None:
    assert demo.version == load_catalog(DEMO_CATALOG).version
    copy = _copy(tmp_path)
    _edit(copy / "marriage.yaml", lambda d: d["items"][0].update(phone="0755-11112222"))
    assert load_catalog(copy).version != demo.version


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(DEMO_CATALOG, target)
    return target


def _edit(path: Path, change: Callable[[dict[str, Any]], Any]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _problems(directory: Path) -> list[str]:
    with pytest.raises(CatalogError) as err:
        load_catalog(directory)
    return err.value.problems


def _first_item(path: Path) -> dict[str, Any]:
    item: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))["items"][0]
    return item


def test_vague_material_is_refused_with_file_item_and_field(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    item = _first_item(copy / "tax.yaml")
    _edit(
        copy / "tax.yaml",
        lambda d: d["items"][0]["materials"].append({"name": "其他材料", "kind": "复印件", "source": "申请人自备"}),
    )
    (problem,) = _problems(copy)
    assert problem.startswith("tax.yaml: ")
    assert f"事项 {item['code']}（{item['name']}）" in problem
    assert f"materials.{len(item['materials'])}.name" in problem
    assert "模糊表述“其他材料”" in problem


@pytest.mark.parametrize("vague", ["有关材料", "其他相关证明", "要求的其他证件", "相关材料复印件"])
def test_every_vague_wording_is_caught(tmp_path: Path, vague: str) -> None:
    copy = _copy(tmp_path)
    _edit(
        copy / "tax.yaml",
        lambda d: d["items"][0]["materials"].append({"name": vague, "kind": "原件", "source": "申请人自备"}),
    )
    assert "模糊表述" in _problems(copy)[0]


def test_missing_required_element(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    _edit(copy / "household.yaml", lambda d: d["items"][1].pop("legal_basis"))
    (problem,) = _problems(copy)
    assert problem.startswith("household.yaml: 事项 ") and "字段 legal_basis: Field required" in problem


def test_duplicate_code_across_files(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    duplicate = _first_item(copy / "tax.yaml")
    _edit(copy / "marriage.yaml", lambda d: d["items"].append(duplicate))
    (problem,) = _problems(copy)
    assert "marriage.yaml" in problem and "tax.yaml" in problem and duplicate["code"] in problem
    assert "字段 code" in problem


def test_shared_data_must_not_be_demanded(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    _edit(
        copy / "residence.yaml",
        lambda d: d["items"][0]["materials"][0].update(data_shared=True, required=True),
    )
    assert "可通过数据共享获取，不得要求申请人提交" in _problems(copy)[0]


def test_rongque_material_needs_a_rule(tmp_path: Path) -> None:
    copy = _copy(tmp_path)

    def drop_rule(d: dict[str, Any]) -> None:
        item = next(i for i in d["items"] if i.get("rongque"))
        item.pop("rongque")

    path = next(
        p for p in sorted(copy.glob("*.yaml")) if any(i.get("rongque") for i in yaml.safe_load(p.read_text())["items"])
    )
    _edit(path, drop_rule)
    assert "未设置容缺受理规则" in _problems(copy)[0]


def test_promise_longer_than_the_law(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    _edit(
        copy / "exit_entry.yaml",
        lambda d: d["items"][0].update(time_limit={"statutory_days": 5, "promised_days": 10}),
    )
    assert "承诺时限不得超过法定时限" in _problems(copy)[0]


def test_bundle_with_unknown_item(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    _edit(copy / "yijianshi.yaml", lambda d: d["bundles"][0]["items"].append("NOSUCH"))
    (problem,) = _problems(copy)
    assert problem.startswith("yijianshi.yaml: 一件事 YJS-") and "不存在的事项 NOSUCH" in problem


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    _edit(copy / "tax.yaml", lambda d: d["items"][0].pop("department"))
    (copy / "broken.yaml").write_text("domain: {code: x\n", encoding="utf-8")
    problems = _problems(copy)
    assert any(p.startswith("tax.yaml") and "department" in p for p in problems)
    assert any(p.startswith("broken.yaml") and "YAML" in p for p in problems)


def test_empty_catalog_directory(tmp_path: Path) -> None:
    assert "没有找到任何目录文件" in _problems(tmp_path)[0]
